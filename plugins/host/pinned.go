package host

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/alpha-orion/runbook/plugins/sdk"
)

// pinnedHook, when set by a test, is called once a plugin's pinned copy
// is ready, before it is started.
var pinnedHook func(name string)

// cacheDir returns the private folder pinned plugins are copied into.
func (m *Manager) cacheDir() (string, error) {
	if m.opts.CacheDir != "" {
		return m.opts.CacheDir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("runbook-%d", os.Getuid()))
	}
	return filepath.Join(dir, "runbook", "plugins"), nil
}

// pinnedCopy returns the path of a private copy of the plugin file at
// path whose SHA-256 is want (hex): the folder cacheDir/WANT, 0700, holds
// it. The bytes hashed are the bytes copied, read once, so the copy is the
// pinned content whatever happens to path meanwhile. The file is read and
// copied at every start, so a file changed since its pin is refused even
// when an earlier copy of the pinned bytes is still there; the copy
// replaces that one by a rename, which leaves running processes alone.
func (m *Manager) pinnedCopy(name, path, want string) (string, error) {
	root, err := m.cacheDir()
	if err != nil {
		return "", sdk.Errorf(sdk.KindPermanent, "plugin %s: %w", name, err)
	}
	dir := filepath.Join(root, want)
	dst := filepath.Join(dir, ExternalPrefix+name)
	defer func() {
		if pinnedHook != nil {
			pinnedHook(name)
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", sdk.Errorf(sdk.KindPermanent, "plugin %s: make its private folder: %w", name, err)
	}
	src, err := os.Open(path)
	if os.IsNotExist(err) {
		return "", sdk.NotFound("no plugin %s: it is not a shipped provider, and there is no %s", name, path)
	}
	if err != nil {
		return "", sdk.Errorf(sdk.KindPermanent, "plugin %s: %w", name, err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".copy-*")
	if err != nil {
		return "", sdk.Errorf(sdk.KindPermanent, "plugin %s: copy it: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // once renamed, this removes nothing
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", sdk.Errorf(sdk.KindPermanent, "plugin %s: copy %s: %w", name, path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return "", sdk.Permanent(&ChecksumError{Plugin: name, Path: path, Want: want, Got: got})
	}
	if err := os.Chmod(tmp.Name(), 0o500); err != nil {
		return "", sdk.Errorf(sdk.KindPermanent, "plugin %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", sdk.Errorf(sdk.KindPermanent, "plugin %s: %w", name, err)
	}
	return dst, nil
}

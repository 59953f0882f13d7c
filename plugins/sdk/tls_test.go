package sdk

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
)

// TestHostTLSIsP256 checks the identities the host makes: P-256 keys, and
// a client configuration that trusts the server identity only.
func TestHostTLSIsP256(t *testing.T) {
	h, err := NewHostTLS()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []tls.Certificate{h.client, h.server} {
		pub, ok := c.Leaf.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			t.Errorf("key %T %v, want ECDSA P-256", c.Leaf.PublicKey, pub)
		}
	}
	t.Setenv(serverTLSEnv, string(h.serverPEM))
	t.Setenv(clientCertEnv, string(h.clientPEM))
	srv, err := serverTLS()
	if err != nil || srv == nil {
		t.Fatalf("serverTLS: %v, %v", srv, err)
	}
	if _, still := os.LookupEnv(serverTLSEnv); still {
		t.Error("the server's key stays in the environment, for the plugin's children to inherit")
	}
	if _, err := srv.Certificates[0].Leaf.Verify(x509.VerifyOptions{Roots: h.Config().RootCAs, DNSName: "localhost"}); err != nil {
		t.Errorf("the client does not trust the server identity: %v", err)
	}
}

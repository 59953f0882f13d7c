package sdk

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

// The host and a plugin authenticate each other with mutual TLS on
// loopback, as go-plugin's AutoMTLS does, but with P-256 keys (about 25
// times cheaper to make than AutoMTLS's P-521) and with both certificates
// made by the host, so a plugin process starts without generating a key.
//
// The host passes the plugin its client certificate in PLUGIN_CLIENT_CERT
// (go-plugin's variable) and the server's certificate and key in
// serverTLSEnv. A plugin built with go-plugin's plain AutoMTLS ignores
// serverTLSEnv, answers with a certificate of its own, and go-plugin's
// client trusts that one instead; so either side may be older.
const (
	clientCertEnv = "PLUGIN_CLIENT_CERT"
	serverTLSEnv  = "RUNBOOK_PLUGIN_TLS"
)

// HostTLS is the host's side of a plugin connection's mutual TLS: one
// client identity and one server identity, made once and reused for every
// plugin a run starts.
type HostTLS struct {
	client tls.Certificate
	server tls.Certificate
	// serverPEM is the server's certificate and key, for the plugin.
	serverPEM []byte
	clientPEM []byte
}

// NewHostTLS makes the two P-256 certificates of a host.
func NewHostTLS() (*HostTLS, error) {
	cCert, cKey, err := selfSigned()
	if err != nil {
		return nil, err
	}
	sCert, sKey, err := selfSigned()
	if err != nil {
		return nil, err
	}
	h := &HostTLS{clientPEM: cCert, serverPEM: append(append([]byte{}, sCert...), sKey...)}
	if h.client, err = tls.X509KeyPair(cCert, cKey); err != nil {
		return nil, err
	}
	if h.server, err = tls.X509KeyPair(sCert, sKey); err != nil {
		return nil, err
	}
	return h, nil
}

// Env returns the variables that give a plugin process its identity.
func (h *HostTLS) Env() []string {
	return []string{clientCertEnv + "=" + string(h.clientPEM), serverTLSEnv + "=" + string(h.serverPEM)}
}

// Config returns a fresh client configuration that trusts only the server
// identity. go-plugin replaces its roots when a plugin sends a certificate
// of its own, hence a copy per plugin.
func (h *HostTLS) Config() *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(h.server.Leaf)
	return &tls.Config{
		Certificates: []tls.Certificate{h.client},
		RootCAs:      roots,
		ClientCAs:    roots,
		ServerName:   "localhost",
		MinVersion:   tls.VersionTLS13,
	}
}

// serverTLS is the plugin's side: the identity the host made for it, and
// the host's certificate as the only client it accepts. It returns nil
// when the host made none (go-plugin then falls back to AutoMTLS), and
// removes the key from the environment so that programs the plugin runs
// (terraform, pg_dump) do not inherit it.
func serverTLS() (*tls.Config, error) {
	pair, ok := os.LookupEnv(serverTLSEnv)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(serverTLSEnv)
	cert, err := tls.X509KeyPair([]byte(pair), []byte(pair))
	if err != nil {
		return nil, fmt.Errorf("runbook plugin: the host's TLS identity: %w", err)
	}
	clients := x509.NewCertPool()
	if !clients.AppendCertsFromPEM([]byte(os.Getenv(clientCertEnv))) {
		return nil, errors.New("runbook plugin: the host sent a TLS identity but no client certificate")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clients,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// selfSigned makes a P-256 certificate for localhost, valid for a day,
// and its key, both PEM.
func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"runbook"}},
		DNSNames:              []string{"localhost"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hotline-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestOptionsOverTLS(t *testing.T) {
	skipShort(t)
	checkGoroutines(t)
	conf := &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	srv, _ := startServer(t, newRecorder(), WithTLS("127.0.0.1:0", conf))
	ua, err := sipgo.NewUA(sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(srv.Addr("tls").String())
	uri := sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: int(ap.Port()), UriParams: sip.NewParams()}
	uri.UriParams.Add("transport", "tls")
	req := sip.NewRequest(sip.OPTIONS, uri)
	req.SetTransport("TLS")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := cl.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("OPTIONS over TLS: %s", res.StartLine())
	}
}

func TestTLSNeedsCertificates(t *testing.T) {
	if _, err := NewServer(newRecorder(), WithTLS("127.0.0.1:0", &tls.Config{})); err == nil {
		t.Fatal("TLS without certificates accepted")
	}
}

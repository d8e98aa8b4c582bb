package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/entity-account/idp/login/seal"
)

func TestSealOpens(t *testing.T) {
	s, err := seal.New(bytes.Repeat([]byte{5}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	plain, ad := []byte("a secret"), []byte("row 1")
	sealed, err := s.Seal(plain, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("the sealed value holds the plain one")
	}
	if len(sealed) != 12+len(plain)+16 {
		t.Errorf("sealed length %d, want nonce 12 + %d + tag 16", len(sealed), len(plain))
	}
	got, err := s.Open(sealed, ad)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := s.Seal(plain, ad)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
}

func TestSealRefuses(t *testing.T) {
	s, _ := seal.New(bytes.Repeat([]byte{5}, seal.KeySize))
	other, _ := seal.New(bytes.Repeat([]byte{6}, seal.KeySize))
	sealed, _ := s.Seal([]byte("a secret"), []byte("row 1"))
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		s      *seal.Sealer
		sealed []byte
		ad     string
	}{
		"other additional data": {s, sealed, "row 2"},
		"other key":             {other, sealed, "row 1"},
		"altered byte":          {s, tampered, "row 1"},
	} {
		if _, err := tc.s.Open(tc.sealed, []byte(tc.ad)); err == nil || errors.Is(err, seal.ErrTooShort) {
			t.Errorf("%s: Open error %v, want the cipher's refusal", name, err)
		}
	}
	for _, short := range [][]byte{nil, sealed[:27]} {
		if _, err := s.Open(short, []byte("row 1")); !errors.Is(err, seal.ErrTooShort) {
			t.Errorf("%d bytes: Open error %v, want ErrTooShort", len(short), err)
		}
	}
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := seal.New(make([]byte, n)); err == nil {
			t.Errorf("a %d-byte key was accepted", n)
		}
	}
}

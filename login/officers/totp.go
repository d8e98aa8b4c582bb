package officers

import (
	"crypto/subtle"
	"encoding/base32"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/entity-account/idp/storage"
)

// The desk's 安全驗證碼: what every authenticator app understands (as the
// staff logins' in login/tools).
const (
	totpIssuer = "行政公職局櫃台"
	totpPeriod = 30
	totpDigits = otp.DigitsSix
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: 1, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// newTOTP makes a new secret for the officer login: the secret (base32, as
// an app takes it typed) and its otpauth:// address (the QR code's).
func newTOTP(login string) (secret, url string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: login, Period: totpPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", "", err
	}
	return key.Secret(), key.URL(), nil
}

// totpAD binds a sealed secret to its officer: copied to another officer's
// row it does not open.
func totpAD(officerID int64) []byte {
	return []byte("officer-totp:" + strconv.FormatInt(officerID, 10))
}

func (a *auth) sealTOTP(officerID int64, secret string) ([]byte, error) {
	return a.totp.Seal([]byte(secret), totpAD(officerID))
}

func (a *auth) openTOTP(officerID int64, sealed []byte) (string, error) {
	plain, err := a.totp.Open(sealed, totpAD(officerID))
	if err != nil {
		return "", storage.Errorf(storage.EInternal, "officer %d: the sealed TOTP secret does not open", officerID)
	}
	return string(plain), nil
}

// wellFormedCode: six digits (spaces dropped by normalizeTOTP).
func wellFormedCode(code string) bool {
	if len(code) != totpDigits.Length() {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func normalizeTOTP(code string) string { return storage.NormalizeCode(code) }

// matchTOTP is the time step of now, or one either side, whose code is code.
func matchTOTP(secret, code string, now time.Time) (int64, bool, error) {
	step := now.Unix() / totpPeriod
	for _, d := range []int64{0, -1, 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix((step+d)*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step + d, true, nil
		}
	}
	return 0, false, nil
}

// totpURL is the otpauth:// address of secret for the officer login.
func totpURL(login, secret string) (string, error) {
	raw, err := base32NoPad(secret)
	if err != nil {
		return "", err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: login, Period: totpPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Secret: raw})
	if err != nil {
		return "", err
	}
	return key.URL(), nil
}

func base32NoPad(secret string) ([]byte, error) {
	return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestDemoTextFeedsRunBanner: the sed expressions of scripts/run.sh pick the
// entity account and the staff logins, with their passwords, out of the
// text form of `idp demo`, so that `make run` prints all of them.
func TestDemoTextFeedsRunBanner(t *testing.T) {
	if _, err := exec.LookPath("sed"); err != nil {
		t.Skip("no sed")
	}
	var buf bytes.Buffer
	printDemo(&buf, demoOutput{
		Issuer: "http://localhost:8080", EntityNumber: demoEntityNumber,
		EntityAccount: map[string]string{"username": "entity01", "password": "Demo-EEEEEEEEEE", "subject": "EA1"},
		Logins: []demoLogin{
			{Username: "admin01", Password: "Demo-AAAAAAAAAA", EUID: "CU000000100", Admin: true, Groups: []string{"admin"}},
			{Username: "staff02", Password: "Demo-SSSSSSSSSS", EUID: "CU000000102", Groups: []string{}},
		},
		Clients: []clientOutput{{ClientID: "demo-web", ClientSecret: "s3cret"}},
	})
	text := buf.String()
	if !strings.Contains(text, "實體使用者帳戶") || !strings.Contains(text, "cannot sign in to e-services") {
		t.Errorf("the entity account line does not say what it is for:\n%s", text)
	}

	script, err := os.ReadFile("../../scripts/run.sh")
	if err != nil {
		t.Fatal(err)
	}
	exprs := regexp.MustCompile(`sed -n '([^']*)'`).FindAllStringSubmatch(string(script), -1)
	var banner strings.Builder
	for _, e := range exprs {
		cmd := exec.Command("sed", "-n", e[1])
		cmd.Stdin = strings.NewReader(text)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sed -n %q: %v", e[1], err)
		}
		banner.Write(out)
	}
	for _, want := range []string{
		"    admin01  password Demo-AAAAAAAAAA  EUID CU000000100 admin=true groups=[admin]\n",
		"    staff02  password Demo-SSSSSSSSSS  EUID CU000000102 admin=false groups=[]\n",
		"    entity01 password Demo-EEEEEEEEEE\n",
	} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("run.sh's banner lacks %q; it prints:\n%s", want, banner.String())
		}
	}
	if strings.Contains(banner.String(), "s3cret") {
		t.Errorf("run.sh's banner prints a client secret:\n%s", banner.String())
	}
}

package main

import (
	"errors"
	"flag"
	"go/parser"
	"go/token"
	"io"
	"os"
	"strings"
	"testing"
)

// TestPackageDocListsCommands: the package doc lists every command of the
// table, and nothing else (what "idp help" lists).
func TestPackageDocListsCommands(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	listed := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		if rest, ok := strings.CutPrefix(line, "\tidp "); ok {
			listed[rest] = true
		}
	}
	for _, c := range commands {
		found := false
		for line := range listed {
			name := strings.TrimSpace(c.name + " " + c.operands)
			if line == name || strings.HasPrefix(line, name+" ") {
				found, listed[line] = true, false
			}
		}
		if !found {
			t.Errorf("the package doc does not list idp %s", c.name)
		}
	}
	for line, left := range listed {
		if left {
			t.Errorf("the package doc lists %q, which is no command", line)
		}
	}
	if len(commands) != 50 {
		t.Errorf("%d commands, want 50", len(commands))
	}
	usage := usage()
	for _, c := range commands {
		if !strings.Contains(usage, "  "+c.name+" ") {
			t.Errorf("the usage does not list %s", c.name)
		}
	}
}

// TestEveryCommandSharesFlags: every command declares its flags on
// newFlags, so -h shows its usage line and synopsis, and returns before
// anything is opened.
func TestEveryCommandSharesFlags(t *testing.T) {
	for _, c := range commands {
		if c.name == "serve" || c.name == "migrate" {
			continue // no flags
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		stderr := os.Stderr
		os.Stderr = w
		runErr := c.run([]string{"-h"})
		os.Stderr = stderr
		w.Close()
		out, _ := io.ReadAll(r)
		if !errors.Is(runErr, flag.ErrHelp) {
			t.Errorf("idp %s -h = %v, want flag.ErrHelp", c.name, runErr)
		}
		first, _, _ := strings.Cut(c.synopsis, "\n")
		if !strings.Contains(string(out), "usage: idp "+c.name) || !strings.Contains(string(out), first) {
			t.Errorf("idp %s -h printed %q", c.name, out)
		}
	}
	if c, rest, ok := lookup([]string{"service", "group", "add", "--code", "x"}); !ok || c.name != "service group add" || len(rest) != 2 {
		t.Errorf("lookup(service group add …) = %q, %v, %v", c.name, rest, ok)
	}
	if err := run([]string{"service", "group"}); err == nil || err.Error() != "service group: add, rename or remove" {
		t.Errorf("idp service group = %v", err)
	}
}

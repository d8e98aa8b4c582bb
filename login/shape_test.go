package login

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	// maxFuncLines is the longest a function may be, from its func line to
	// its closing brace: beyond it, split it into steps that read top to
	// bottom.
	maxFuncLines = 80
	// maxHandlerMethods is the most methods a handler type of the web
	// layer (login/...: a type with a method that writes an answer, one
	// taking an http.ResponseWriter) may declare: beyond it, it is several
	// things a person would name apart.
	maxHandlerMethods = 30
)

// allowedMethods are the types of the web layer allowed more than
// maxHandlerMethods methods for now, with the count they may not exceed.
// Each entry is a split not finished yet; remove it when it is. None today.
var allowedMethods = map[string]int{}

// allowedLong are functions allowed over maxFuncLines for now ("dir.Func"
// or "dir.Type.Method"), with the length they may not exceed. None today.
var allowedLong = map[string]int{}

// TestShape (here, in the web layer's package, since the web layer is
// what it guards most) parses every non-test Go file of the module and fails on a
// function over maxFuncLines lines, or a handler type of login/ with more
// than maxHandlerMethods methods, unless allowed above.
func TestShape(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	methods := map[string]int{}
	handlers := map[string]bool{}
	var problems []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		dir := filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			id := dir + "." + funcName(fn)
			if n := fset.Position(fn.Body.Rbrace).Line - fset.Position(fn.Pos()).Line + 1; n > maxFuncLines && n > allowedLong[id] {
				problems = append(problems, fmt.Sprintf("%s: %d lines (at most %d)", id, n, maxFuncLines))
			}
			if recv := receiverType(fn); recv != "" && (dir == "login" || strings.HasPrefix(dir, "login/")) {
				methods[dir+"."+recv]++
				if writesAnswer(fn) {
					handlers[dir+"."+recv] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(handlers) == 0 {
		t.Fatal("no handler type of login/ found: the walk did not reach the module")
	}
	for typ, n := range methods {
		if !handlers[typ] {
			continue
		}
		if max, ok := allowedMethods[typ]; n > maxHandlerMethods && (!ok || n > max) {
			problems = append(problems, fmt.Sprintf("%s: %d methods (at most %d)", typ, n, maxHandlerMethods))
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// moduleRoot is the directory of the module's go.mod, above this package.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func funcName(fn *ast.FuncDecl) string {
	if r := receiverType(fn); r != "" {
		return r + "." + fn.Name.Name
	}
	return fn.Name.Name
}

// receiverType is the name of fn's receiver type ("" for a function).
func receiverType(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return ""
	}
	x := fn.Recv.List[0].Type
	for {
		switch e := x.(type) {
		case *ast.StarExpr:
			x = e.X
		case *ast.IndexExpr: // a generic receiver, T[P]
			x = e.X
		case *ast.IndexListExpr:
			x = e.X
		case *ast.Ident:
			return e.Name
		default:
			return ""
		}
	}
}

// writesAnswer reports whether fn takes an http.ResponseWriter.
func writesAnswer(fn *ast.FuncDecl) bool {
	for _, p := range fn.Type.Params.List {
		if sel, ok := p.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "ResponseWriter" {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "http" {
				return true
			}
		}
	}
	return false
}

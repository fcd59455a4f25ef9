// gomodzip writes the module zip the Go module proxy would serve for each module folder given, with
// golang.org/x/mod/zip (the go command's own rules: which files go in, which names are valid, the
// 500 MiB limit on a zip and on its contents), and prints its size. scripts/package.sh runs it on
// the Go module and each of its per-platform modules, libraries in place, and fails when one
// breaks a rule.
//
//	gomodzip <out dir> <version> <module dir>...
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: gomodzip <out dir> <version> <module dir>...")
		os.Exit(2)
	}
	out, version := os.Args[1], os.Args[2]
	for _, dir := range os.Args[3:] {
		if err := write(out, version, dir); err != nil {
			fmt.Fprintf(os.Stderr, "gomodzip: %s: %v\n", dir, err)
			os.Exit(1)
		}
	}
}

func write(out, version, dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	path := modfile.ModulePath(data)
	mv := module.Version{Path: path, Version: version}
	if err := module.Check(mv.Path, mv.Version); err != nil {
		return err
	}
	// What the go command would leave out, and why, and any file that breaks a rule.
	checked, err := zip.CheckDir(dir)
	if err != nil {
		return fmt.Errorf("%v (%d invalid files: %v; size error: %v)", err, len(checked.Invalid), checked.Invalid, checked.SizeError)
	}
	name := filepath.Join(out, strings.ReplaceAll(strings.TrimPrefix(path, "github.com/authsec/authsec/"), "/", "_")+"@"+version+".zip")
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(f, mv, dir); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	fmt.Printf("gomodzip: %s@%s: %d files, zip %d bytes (limit %d)\n", path, version, len(checked.Valid), st.Size(), zip.MaxZipFile)
	return nil
}

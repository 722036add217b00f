// Command release moves the ratewarden module set to a new version and prints the tags that
// publish it (docs/versioning.md).
//
//	go run ./tools/release v0.3.0   (make release VERSION=v0.3.0)
//
// It writes the version into versions.txt and into every require of a sibling module in
// every go.mod of the workspace (the replace lines stay, for development), then prints one
// tag per released module, prefixed with its directory (core/v0.3.0,
// adapters/ginlimit/v0.3.0, …), and the git commands to create and push them. Without an
// argument it prints the tags of the current version. It never runs git itself.
//
// go.opentelemetry.io/build-tools/multimod does this job for opentelemetry-go-contrib, but
// it is not served by the module proxy this project builds from, and the job is small: a
// version file and a go.mod rewrite with golang.org/x/mod/modfile.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/ratewarden/ratewarden/tools/modset"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("usage: release [vX.Y.Z]")
	}
	root, err := modset.FindRoot(".")
	if err != nil {
		return err
	}
	s, err := modset.Load(root)
	if err != nil {
		return err
	}
	if len(args) == 1 {
		old := s.Version
		changed, err := s.SetVersion(args[0])
		if err != nil {
			return err
		}
		fmt.Printf("module set %s → %s; rewritten: %s\n", old, s.Version, strings.Join(changed, " "))
		fmt.Println("add a CHANGELOG.md section, commit, then tag that commit:")
	}
	tags := s.Tags(s.Version)
	for _, t := range tags {
		fmt.Println(t)
	}
	fmt.Printf("\n  git tag -a -m 'ratewarden %[1]s' <tag>   # for each tag above\n  git push origin %[2]s\n", s.Version, strings.Join(tags, " "))
	return nil
}

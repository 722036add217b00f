package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strings"
)

// A site is one place where a package's code branches, with the outcomes a test run must
// reach: a condition (of an if, a for, a case of a switch without tag, or an operand of && or
// ||) must be seen both true and false; a clause of a switch or type switch (the implicit
// default of one without a default too) must run once.
type site struct {
	id        int
	file      string // slash path relative to the repository root
	line, col int
	clause    bool   // a switch clause rather than a condition
	text      string // the condition's source, or the clause's label
	// The lines of the helper file whose blocks tell the outcomes: trueLine (a condition's
	// true outcome, a clause's run) and falseLine (a condition's false outcome).
	trueLine, falseLine int
}

// helperPrefix names the generated functions; no identifier of the repository starts so.
const helperPrefix = "_rwbc"

// insertion is text inserted into a source file at a byte offset.
type insertion struct {
	offset int
	text   string
	close  bool // the closing parenthesis of a wrapped expression
	start  int  // the start of the wrapped expression, to order insertions at one offset
	end    int
}

// instrumentFile rewrites src, a non-test file of a package, so that every branch site calls
// a helper function of its own (see helperFile): a condition c becomes _rwbcN(c), which
// returns c unchanged; a clause gets a call _rwbcN() as its first statement; a switch without
// a default gets `default: _rwbcN();`, which does nothing, as a switch without a default
// does. The rewrite only inserts text inside lines, so positions before and after it name the
// same line, and short-circuit evaluation and every side effect stay as they were. The sites
// get ids from *nextID on.
func instrumentFile(relPath string, src []byte, nextID *int) ([]byte, []site, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, relPath, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, err
	}
	tf := fset.File(f.Pos())
	off := func(p token.Pos) int { return tf.Offset(p) }
	var sites []site
	var ins []insertion
	newSite := func(pos token.Pos, clause bool, text string) int {
		*nextID++
		p := fset.Position(pos)
		sites = append(sites, site{id: *nextID, file: relPath, line: p.Line, col: p.Column, clause: clause, text: text})
		return *nextID
	}
	wrapped := map[ast.Expr]bool{}
	wrap := func(e ast.Expr) {
		if wrapped[e] {
			return
		}
		wrapped[e] = true
		start, end := off(e.Pos()), off(e.End())
		id := newSite(e.Pos(), false, squeeze(src[start:end]))
		ins = append(ins,
			insertion{offset: start, text: fmt.Sprintf("%s%d(", helperPrefix, id), start: start, end: end},
			insertion{offset: end, text: ")", close: true, start: start, end: end})
	}
	// condition wraps e and, when it is made of && and ||, each of its operands.
	condition := func(e ast.Expr) {
		wrap(e)
		for _, l := range operands(e) {
			wrap(l)
		}
	}
	clauses := func(sw ast.Node, body *ast.BlockStmt) {
		hasDefault := false
		for _, s := range body.List {
			cc := s.(*ast.CaseClause)
			label := "default"
			if cc.List == nil {
				hasDefault = true
			} else {
				label = "case " + squeeze(src[off(cc.List[0].Pos()):off(cc.List[len(cc.List)-1].End())])
			}
			id := newSite(cc.Pos(), true, label)
			ins = append(ins, insertion{offset: off(cc.Colon) + 1, text: fmt.Sprintf(" %s%d();", helperPrefix, id)})
		}
		if !hasDefault {
			id := newSite(sw.Pos(), true, "default (none written)")
			ins = append(ins, insertion{offset: off(body.Rbrace), text: fmt.Sprintf("default: %s%d(); ", helperPrefix, id)})
		}
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue // package-level variables are initialised once; constants cannot call
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				return n.Tok != token.CONST
			case *ast.IfStmt:
				condition(n.Cond)
			case *ast.ForStmt:
				if n.Cond != nil {
					condition(n.Cond)
				}
			case *ast.SwitchStmt:
				if n.Tag != nil {
					clauses(n, n.Body)
					break
				}
				for _, s := range n.Body.List {
					for _, e := range s.(*ast.CaseClause).List {
						condition(e)
					}
				}
			case *ast.TypeSwitchStmt:
				clauses(n, n.Body)
			case *ast.BinaryExpr:
				if n.Op == token.LAND || n.Op == token.LOR {
					for _, l := range operands(n) {
						wrap(l)
					}
				}
			}
			return true
		})
	}
	return applyInsertions(src, ins), sites, nil
}

// operands returns the operands of the && and || of e, through parentheses, or nil when e is
// not such an expression.
func operands(e ast.Expr) []ast.Expr {
	b, ok := ast.Unparen(e).(*ast.BinaryExpr)
	if !ok || b.Op != token.LAND && b.Op != token.LOR {
		return nil
	}
	var out []ast.Expr
	for _, x := range []ast.Expr{b.X, b.Y} {
		if sub := operands(x); sub != nil {
			out = append(out, sub...)
		} else {
			out = append(out, ast.Unparen(x))
		}
	}
	return out
}

// applyInsertions returns src with ins inserted. At one offset, closing parentheses come
// first (the inner expression's first), then openings (the outer expression's first).
func applyInsertions(src []byte, ins []insertion) []byte {
	sort.SliceStable(ins, func(i, j int) bool {
		a, b := ins[i], ins[j]
		if a.offset != b.offset {
			return a.offset < b.offset
		}
		if a.close != b.close {
			return a.close
		}
		if a.close {
			return a.start > b.start
		}
		return a.end > b.end
	})
	var out bytes.Buffer
	last := 0
	for _, in := range ins {
		out.Write(src[last:in.offset])
		out.WriteString(in.text)
		last = in.offset
	}
	out.Write(src[last:])
	return out.Bytes()
}

// helperFile returns the Go file that declares the helpers of sites, in package pkg, and
// sets each site's trueLine and falseLine. A condition's helper returns its argument from
// one of two blocks, so the coverage profile tells which outcomes occurred; a clause's helper
// has one block.
func helperFile(pkg string, sites []site) []byte {
	var b strings.Builder
	line := 1
	emit := func(format string, args ...any) {
		fmt.Fprintf(&b, format+"\n", args...)
		line++
	}
	emit("// Code generated by tools/cover for branch coverage. DO NOT EDIT.")
	emit("")
	emit("package %s", pkg)
	for i := range sites {
		s := &sites[i]
		emit("")
		if s.clause {
			emit("func %s%d() {", helperPrefix, s.id)
			s.trueLine = line
			emit("\t_ = 0")
			emit("}")
			continue
		}
		emit("func %s%d[T ~bool](b T) T {", helperPrefix, s.id)
		emit("\tif b {")
		s.trueLine = line
		emit("\t\treturn b")
		emit("\t}")
		s.falseLine = line
		emit("\treturn b")
		emit("}")
	}
	return []byte(b.String())
}

// squeeze returns src on one line with runs of white space made one space, cut to 70 bytes.
func squeeze(src []byte) string {
	s := strings.Join(strings.Fields(string(src)), " ")
	if len(s) > 70 {
		s = s[:67] + "..."
	}
	return s
}

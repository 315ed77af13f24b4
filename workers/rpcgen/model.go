package main

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// kind is the kind of a supported type.
type kind int

const (
	kString kind = iota
	kBool
	kInt
	kInt32
	kInt64
	kUint32
	kFloat64
	kTime
	kPtr
	kSlice
	kStruct
)

var basicKinds = map[string]kind{
	"string": kString, "bool": kBool, "int": kInt, "int32": kInt32,
	"int64": kInt64, "uint32": kUint32, "float64": kFloat64,
}

// typ is a supported type.
type typ struct {
	kind  kind
	named *namedBasic // a named type of the package with a basic underlying type
	elem  *typ        // kPtr, kSlice
	st    *structType // kStruct
}

// namedBasic is a type like `type Code string`.
type namedBasic struct {
	name   string
	doc    string
	consts []string // values of its string constants, in declaration order
}

type structType struct {
	name   string
	doc    string
	fields []*field
	order  int // order of first use
}

type field struct {
	goName    string
	jsonName  string
	doc       string
	typ       *typ
	omitEmpty bool
}

type param struct {
	goName, jsName string
	typ            *typ
}

type method struct {
	goName, rpcName, doc string
	params               []param // without the leading context.Context
	result               *typ    // nil when the method returns only an error
	sync                 bool    // marked //rpc:sync: answered inside the JavaScript call when it needs no I/O
}

// model is what rpcgen reads from a package.
type model struct {
	pkgName string // the package the Go output belongs to
	// qual and contractImport are set when the interface and its types are
	// declared in another package (-contract): the Go output refers to them
	// as qual.Name and imports contractImport.
	qual, contractImport string
	iface                string // "" without -type
	ifaceDoc             string
	methods              []method
	structs              []*structType // every struct used, in order of first use
	named                []*namedBasic // every named basic type used, in order of first use
	errType              *structType   // the -error-type struct, or nil
	// entrypoints are the named entrypoints (-entrypoints), in order: the
	// runtime numbers them from 1 (0 is the default entrypoint).
	entrypoints []entrypoint
}

// entrypoint is a named WorkerEntrypoint class that fixes its caller.
type entrypoint struct {
	name, serviceID string
}

// loader reads a package's Go source.
type loader struct {
	fset    *token.FileSet
	pkgName string
	types   map[string]*typeDecl
	funcs   map[string]bool
	consts  map[string][]string // named type -> string constants
	strs    map[string]string   // constant name -> its value, for string constants
	vars    map[string]*varDecl
	structs map[string]*structType
	nameds  map[string]*namedBasic
	m       *model
}

type varDecl struct {
	value ast.Expr
	file  *ast.File
}

type typeDecl struct {
	spec *ast.TypeSpec
	doc  string
	file *ast.File
}

// hooks are the functions the contract package must declare by hand.
var hooks = []struct{ name, signature string }{
	{"rpcArgumentError", "func rpcArgumentError(method, param string, err error) error"},
	{"rpcAppendError", "func rpcAppendError(dst []byte, err error) []byte"},
	{"rpcClientError", "func rpcClientError(err error) error"},
}

// load reads the package of c (paths relative to base) and builds the model:
// the interface -type and its types come from -contract when it is given,
// else from the package itself, whose Go output (-go) is skipped; the hooks
// come from the package itself.
func load(base string, c config) (*model, error) {
	at := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	pkgDir := at(c.pkgDir)
	skip := ""
	if c.goOut != "" {
		skip = at(c.goOut)
	}
	own, err := parseDir(pkgDir, skip)
	if err != nil {
		return nil, err
	}
	l := own
	if c.contract != "" {
		if l, err = parseDir(at(c.contract), ""); err != nil {
			return nil, err
		}
		if l.pkgName == own.pkgName {
			return nil, errors.New("-contract " + c.contract + " is package " + l.pkgName + ", the package itself: leave -contract out")
		}
		l.m.qual = l.pkgName
		if l.m.contractImport, err = importPathOf(at(c.contract)); err != nil {
			return nil, err
		}
	}
	l.m.pkgName = own.pkgName
	l.m.iface = c.typeName
	if c.typeName == "" {
		return l.m, nil
	}
	for _, h := range hooks {
		if !own.funcs[h.name] {
			return nil, errors.New("package " + own.pkgName + " must declare the hook `" + h.signature +
				"` (see rpcgen's documentation)")
		}
	}
	if err := l.loadInterface(c.typeName); err != nil {
		return nil, err
	}
	if c.errType != "" {
		td := l.types[c.errType]
		if td == nil {
			return nil, errors.New("-error-type " + c.errType + ": no such type in package " + l.pkgName)
		}
		t, err := l.resolve(&ast.Ident{Name: c.errType}, td.file, "-error-type "+c.errType)
		if err != nil {
			return nil, err
		}
		if t.kind != kStruct {
			return nil, errors.New("-error-type " + c.errType + " is not a struct type")
		}
		l.m.errType = t.st
	}
	if c.entrypoints != "" {
		if err := l.loadEntrypoints(c.entrypoints, c.jsClass); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(l.m.structs, func(i, j int) bool { return l.m.structs[i].order < l.m.structs[j].order })
	seen := map[string]string{}
	for _, st := range l.m.structs {
		fn := exportedName(st.name)
		if other, ok := seen[fn]; ok {
			return nil, errors.New("types " + other + " and " + st.name + " would share the codec functions append" + fn + "JSON and decode" + fn + "JSON")
		}
		seen[fn] = st.name
	}
	return l.m, nil
}

// parseDir parses the non-test Go files of dir, except skip.
func parseDir(dir, skip string) (*loader, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	skipAbs := ""
	if skip != "" {
		if skipAbs, err = filepath.Abs(skip); err != nil {
			return nil, err
		}
	}
	l := &loader{
		fset: token.NewFileSet(), types: map[string]*typeDecl{}, funcs: map[string]bool{},
		consts: map[string][]string{}, strs: map[string]string{}, vars: map[string]*varDecl{}, structs: map[string]*structType{},
		nameds: map[string]*namedBasic{}, m: &model{},
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		path := filepath.Join(dir, name)
		if abs, err := filepath.Abs(path); err == nil && abs == skipAbs {
			continue
		}
		f, err := parser.ParseFile(l.fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if l.pkgName == "" {
			l.pkgName = f.Name.Name
		} else if f.Name.Name != l.pkgName {
			return nil, errors.New(path + ": package " + f.Name.Name + ", want " + l.pkgName)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, errors.New(dir + ": no Go files")
	}
	for _, f := range files {
		l.index(f)
	}
	return l, nil
}

// importPathOf is the import path of the package in dir: the module path of
// the nearest go.mod above it, joined with dir's path below that.
func importPathOf(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			mod := modfileModule(data)
			if mod == "" {
				return "", errors.New(filepath.Join(d, "go.mod") + " has no module line")
			}
			rel, err := filepath.Rel(d, abs)
			if err != nil {
				return "", err
			}
			if rel == "." {
				return mod, nil
			}
			return mod + "/" + filepath.ToSlash(rel), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New(dir + ": no go.mod above it")
		}
	}
}

// modfileModule is the module path of a go.mod file.
func modfileModule(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// loadEntrypoints reads the package-level variable name, a slice literal of
// structs with string fields Name and ServiceID:
//
//	var Entrypoints = []Entrypoint{{Name: "IngestorEntrypoint", ServiceID: "ingestor-service"}}
func (l *loader) loadEntrypoints(name, defaultClass string) error {
	vd := l.vars[name]
	if vd == nil {
		return errors.New("-entrypoints " + name + ": no such variable in package " + l.pkgName)
	}
	lit, ok := vd.value.(*ast.CompositeLit)
	if ok {
		_, ok = lit.Type.(*ast.ArrayType)
	}
	if !ok {
		return l.errorf(vd.value, name+" must be a slice literal of {Name: \"...\", ServiceID: \"...\"}")
	}
	seen := map[string]bool{defaultClass: true}
	for _, elt := range lit.Elts {
		el, ok := elt.(*ast.CompositeLit)
		if !ok {
			return l.errorf(elt, name+": each entrypoint must be a literal {Name: \"...\", ServiceID: \"...\"}")
		}
		var ep entrypoint
		for _, kv := range el.Elts {
			kv, ok := kv.(*ast.KeyValueExpr)
			if !ok {
				return l.errorf(el, name+": each entrypoint must be a literal {Name: \"...\", ServiceID: \"...\"}")
			}
			key, _ := kv.Key.(*ast.Ident)
			s, isString := "", false
			switch v := kv.Value.(type) {
			case *ast.BasicLit: // "ingestor-service"
				if v.Kind == token.STRING {
					s, _ = strconv.Unquote(v.Value)
					isString = true
				}
			case *ast.Ident: // a string constant of the package
				s, isString = l.strs[v.Name]
			}
			if key == nil || !isString {
				return l.errorf(el, name+": each entrypoint must be a literal {Name: \"...\", ServiceID: \"...\"} of strings or string constants")
			}
			switch key.Name {
			case "Name":
				ep.name = s
			case "ServiceID":
				ep.serviceID = s
			default:
				return l.errorf(kv, name+": unknown field "+key.Name)
			}
		}
		switch {
		case !validJSIdent(ep.name):
			return l.errorf(el, name+": "+strconv.Quote(ep.name)+" is not a JavaScript class name")
		case seen[ep.name]:
			return l.errorf(el, name+": the class name "+ep.name+" is used twice (or is the default entrypoint's)")
		case ep.serviceID == "":
			return l.errorf(el, name+": "+ep.name+" has no ServiceID")
		}
		seen[ep.name] = true
		l.m.entrypoints = append(l.m.entrypoints, ep)
	}
	return nil
}

func (l *loader) index(f *ast.File) {
	for _, decl := range f.Decls {
		switch decl := decl.(type) {
		case *ast.FuncDecl:
			if decl.Recv == nil {
				l.funcs[decl.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, spec := range decl.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					doc := spec.Doc
					if doc == nil && len(decl.Specs) == 1 {
						doc = decl.Doc
					}
					l.types[spec.Name.Name] = &typeDecl{spec: spec, doc: doc.Text(), file: f}
				case *ast.ValueSpec:
					if decl.Tok == token.VAR {
						for i, n := range spec.Names {
							if i < len(spec.Values) {
								l.vars[n.Name] = &varDecl{value: spec.Values[i], file: f}
							}
						}
						continue
					}
					if decl.Tok != token.CONST {
						continue
					}
					for i, v := range spec.Values {
						if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING && i < len(spec.Names) {
							if s, err := strconv.Unquote(lit.Value); err == nil {
								l.strs[spec.Names[i].Name] = s
							}
						}
						var tname string
						if id, ok := spec.Type.(*ast.Ident); ok {
							tname = id.Name
						} else if call, ok := v.(*ast.CallExpr); ok && len(call.Args) == 1 {
							if id, ok := call.Fun.(*ast.Ident); ok {
								tname, v = id.Name, call.Args[0]
							}
						}
						lit, ok := v.(*ast.BasicLit)
						if tname == "" || !ok || lit.Kind != token.STRING {
							continue
						}
						if s, err := strconv.Unquote(lit.Value); err == nil {
							l.consts[tname] = append(l.consts[tname], s)
						}
					}
				}
			}
		}
	}
}

func (l *loader) pos(n ast.Node) string {
	p := l.fset.Position(n.Pos())
	return filepath.Base(p.Filename) + ":" + strconv.Itoa(p.Line)
}

func (l *loader) errorf(n ast.Node, msg string) error { return errors.New(l.pos(n) + ": " + msg) }

// importPath returns the path a file imports as name.
func importPath(f *ast.File, name string) string {
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		local := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			local = imp.Name.Name
		}
		if local == name {
			return path
		}
	}
	return ""
}

func isSelector(f *ast.File, e ast.Expr, path, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && sel.Sel.Name == name && importPath(f, x.Name) == path
}

func (l *loader) loadInterface(name string) error {
	td := l.types[name]
	if td == nil {
		return errors.New("-type " + name + ": no such type in package " + l.pkgName)
	}
	it, ok := td.spec.Type.(*ast.InterfaceType)
	if !ok || td.spec.TypeParams != nil {
		return l.errorf(td.spec, name+" is not an interface type")
	}
	l.m.ifaceDoc = td.doc
	seen := map[string]string{}
	for _, f := range it.Methods.List {
		if len(f.Names) == 0 {
			return l.errorf(f, name+": embedded interfaces are not supported; list the methods")
		}
		ft, ok := f.Type.(*ast.FuncType)
		if !ok {
			return l.errorf(f, name+": not a method")
		}
		m := method{goName: f.Names[0].Name, doc: f.Doc.Text()}
		where := name + "." + m.goName
		if !ast.IsExported(m.goName) {
			return l.errorf(f, where+": methods must be exported")
		}
		m.rpcName = jsName(m.goName)
		if f.Doc != nil {
			for _, c := range f.Doc.List {
				if rest, ok := strings.CutPrefix(c.Text, "//rpc:name "); ok {
					m.rpcName = strings.TrimSpace(rest)
				}
				if strings.TrimSpace(c.Text) == "//rpc:sync" {
					m.sync = true
				}
			}
		}
		if !validJSName(m.rpcName) || reservedRPCNames[m.rpcName] {
			return l.errorf(f, where+": "+strconv.Quote(m.rpcName)+" cannot be an RPC method name")
		}
		if other, ok := seen[m.rpcName]; ok {
			return l.errorf(f, where+": RPC name "+m.rpcName+" is also the name of "+other)
		}
		seen[m.rpcName] = m.goName

		var params []*ast.Field
		if ft.Params != nil {
			params = ft.Params.List
		}
		if len(params) == 0 || !isSelector(td.file, params[0].Type, "context", "Context") {
			return l.errorf(f, where+": the first parameter must be a context.Context")
		}
		first := true
		for _, p := range params {
			names := p.Names
			if len(names) == 0 {
				return l.errorf(p, where+": parameters must be named (the names are the JavaScript parameter names)")
			}
			for _, n := range names {
				if first { // the context
					first = false
					continue
				}
				if _, ok := p.Type.(*ast.Ellipsis); ok {
					return l.errorf(p, where+": variadic parameters are not supported")
				}
				t, err := l.resolve(p.Type, td.file, where+" parameter "+n.Name)
				if err != nil {
					return err
				}
				m.params = append(m.params, param{goName: n.Name, jsName: jsName(n.Name), typ: t})
			}
		}
		var results []ast.Expr
		if ft.Results != nil {
			for _, r := range ft.Results.List {
				for range max(1, len(r.Names)) {
					results = append(results, r.Type)
				}
			}
		}
		isError := func(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "error" }
		switch {
		case len(results) == 1 && isError(results[0]):
		case len(results) == 2 && isError(results[1]):
			t, err := l.resolve(results[0], td.file, where+" result")
			if err != nil {
				return err
			}
			m.result = t
		default:
			return l.errorf(f, where+": results must be (T, error) or (error)")
		}
		l.m.methods = append(l.m.methods, m)
	}
	if len(l.m.methods) == 0 {
		return l.errorf(td.spec, name+" has no methods")
	}
	return nil
}

// resolve returns the type that e (in file f) denotes, or an error naming
// where it is used.
func (l *loader) resolve(e ast.Expr, f *ast.File, where string) (*typ, error) {
	unsupported := func(why string) (*typ, error) {
		msg := where + ": unsupported type " + types.ExprString(e)
		if why != "" {
			msg += " (" + why + ")"
		}
		return nil, l.errorf(e, msg)
	}
	switch e := e.(type) {
	case *ast.Ident:
		if td := l.types[e.Name]; td != nil {
			return l.resolveNamed(td, where)
		}
		if k, ok := basicKinds[e.Name]; ok {
			return &typ{kind: k}, nil
		}
		return unsupported("supported: string, bool, int, int32, int64, uint32, float64, time.Time, slices, pointers and structs of this package")
	case *ast.SelectorExpr:
		if isSelector(f, e, "time", "Time") {
			return &typ{kind: kTime}, nil
		}
		return unsupported("only structs declared in package " + l.pkgName + " can be encoded")
	case *ast.StarExpr:
		elem, err := l.resolve(e.X, f, where)
		if err != nil {
			return nil, err
		}
		if elem.kind == kPtr || elem.kind == kSlice {
			return unsupported("a pointer must point to a struct, time.Time or a basic type")
		}
		return &typ{kind: kPtr, elem: elem}, nil
	case *ast.ArrayType:
		if e.Len != nil {
			return unsupported("arrays are not supported; use a slice")
		}
		elem, err := l.resolve(e.Elt, f, where)
		if err != nil {
			return nil, err
		}
		return &typ{kind: kSlice, elem: elem}, nil
	case *ast.ParenExpr:
		return l.resolve(e.X, f, where)
	}
	return unsupported("")
}

func (l *loader) resolveNamed(td *typeDecl, where string) (*typ, error) {
	spec := td.spec
	name := spec.Name.Name
	if spec.TypeParams != nil || spec.Assign.IsValid() {
		return nil, l.errorf(spec, where+": unsupported type "+name+" (generic types and aliases are not supported)")
	}
	if st := l.structs[name]; st != nil {
		return &typ{kind: kStruct, st: st}, nil
	}
	switch u := spec.Type.(type) {
	case *ast.StructType:
		st := &structType{name: name, doc: td.doc, order: len(l.structs)}
		l.structs[name] = st // before the fields, for recursive types
		l.m.structs = append(l.m.structs, st)
		if err := l.loadFields(st, u, td.file); err != nil {
			return nil, err
		}
		return &typ{kind: kStruct, st: st}, nil
	case *ast.Ident:
		if k, ok := basicKinds[u.Name]; ok && l.types[u.Name] == nil {
			nb := l.nameds[name]
			if nb == nil {
				nb = &namedBasic{name: name, doc: td.doc}
				if k == kString {
					nb.consts = l.consts[name]
				}
				l.nameds[name] = nb
				l.m.named = append(l.m.named, nb)
			}
			return &typ{kind: k, named: nb}, nil
		}
	}
	return nil, l.errorf(spec, where+": unsupported type "+name+" (its underlying type "+types.ExprString(spec.Type)+
		" is not supported)")
}

func (l *loader) loadFields(st *structType, s *ast.StructType, f *ast.File) error {
	seen := map[string]string{}
	for _, fl := range s.Fields.List {
		if len(fl.Names) == 0 {
			return l.errorf(fl, st.name+": embedded field "+types.ExprString(fl.Type)+" is not supported")
		}
		var tag reflect.StructTag
		if fl.Tag != nil {
			s, _ := strconv.Unquote(fl.Tag.Value)
			tag = reflect.StructTag(s)
		}
		for _, n := range fl.Names {
			if !n.IsExported() {
				continue // as encoding/json
			}
			where := st.name + "." + n.Name
			jt, ok := tag.Lookup("json")
			if !ok {
				return l.errorf(fl, where+": no json tag (every field of the wire contract names its JSON key)")
			}
			if jt == "-" {
				continue
			}
			name, opts, _ := strings.Cut(jt, ",")
			fd := &field{goName: n.Name, jsonName: name, doc: strings.TrimSpace(fl.Doc.Text() + "\n" + fl.Comment.Text())}
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "":
				case "omitempty":
					fd.omitEmpty = true
				default:
					return l.errorf(fl, where+": json tag option "+strconv.Quote(o)+" is not supported")
				}
			}
			if name == "" {
				return l.errorf(fl, where+": the json tag has no name")
			}
			if other, ok := seen[name]; ok {
				return l.errorf(fl, where+": JSON key "+strconv.Quote(name)+" is also the key of "+other)
			}
			seen[name] = n.Name
			t, err := l.resolve(fl.Type, f, "field "+where)
			if err != nil {
				return err
			}
			if fd.omitEmpty && (t.kind == kTime || t.kind == kStruct) {
				return l.errorf(fl, where+": omitempty is not supported for "+types.ExprString(fl.Type)+
					" (encoding/json never omits it); use a pointer")
			}
			fd.typ = t
			st.fields = append(st.fields, fd)
		}
	}
	return nil
}

// reservedRPCNames are names a method of a WorkerEntrypoint cannot have:
// handlers and properties of the class, "then", which would make the
// binding's stub look like a promise, and the methods genJS adds.
var reservedRPCNames = map[string]bool{
	"callJSON": true, "callJSONVersion": true,
	"constructor": true, "fetch": true, "scheduled": true, "queue": true, "tail": true, "trace": true,
	"tailStream": true, "test": true, "email": true, "alarm": true, "connect": true, "env": true,
	"ctx": true, "then": true, "dup": true, "toString": true, "valueOf": true,
	"webSocketMessage": true, "webSocketClose": true, "webSocketError": true,
}

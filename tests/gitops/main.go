// Command gitops-check runs on EventTrackers what GitOps tools run on them, with
// those tools' own engines, so the tests judge our health check and status the
// way users' clusters will:
//
//   - Argo CD: a health script in gopher-lua with exactly the libraries Argo CD
//     opens (argo-cd util/lua/lua.go runLua): package, base, table and a
//     restricted os; string and math only with useOpenLibs (-open-libs).
//   - Flux, kpt, kubectl wait via cli-utils: kstatus (pkg/kstatus/status.Compute).
//
// Usage:
//
//	gitops-check health-test [-open-libs] DIR   DIR/health.lua against DIR/health_test.yaml,
//	                                            read as Argo CD's TestLuaHealthScript reads it
//	gitops-check health [-open-libs] SCRIPT     stdin: JSON array of objects; stdout: one result each
//	gitops-check kstatus                        stdin: JSON array of objects; stdout: one result each
//	gitops-check actions-test [-open-libs] DIR  DIR/discovery.lua and DIR/<action>/action.lua against
//	                                            DIR/action_test.yaml, read as Argo CD's TestLuaResourceActionsScript
//	gitops-check discover [-open-libs] DIR      stdin: one object; stdout: the actions discovery.lua lists
//	gitops-check action [-open-libs] DIR NAME   stdin: one object; stdout: what DIR/NAME/action.lua returns,
//	                                            as Argo CD's ExecuteResourceAction hands it to the API server
//	gitops-check merge-patch                    stdin: [live, new]; stdout: the merge patch Argo CD's API server
//	                                            sends for an action's result (jsonpatch.CreateMergePatch)
//
// Results are JSON: {"status", "message"} or {"error"}. health-test exits 1 when
// a case fails, after printing every case.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sjson "k8s.io/apimachinery/pkg/util/json"
	luajson "layeh.com/gopher-json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// Argo CD's health codes (gitops-engine pkg/health); any other status becomes Unknown.
var validHealth = map[string]bool{
	"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true,
}

const invalidHealthStatus = "Lua returned an invalid health status"

// Health is Argo CD's HealthStatus as the script's returned table decodes into it.
type Health struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// Result is one line of output: a health or kstatus result, or the error Argo CD would report.
type Result struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

// newState opens the libraries Argo CD opens for a health script, in the same order and way.
func newState(openLibs bool) *lua.LState {
	l := lua.NewState(lua.Options{SkipOpenLibs: !openLibs})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openSafeOs},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			panic(err)
		}
	}
	l.PreloadModule(lua.OsLibName, safeOsLoader)
	return l
}

// safeOs stands in for Argo CD's restricted os library (util/lua/oslib_safe.go): the same two
// names, time() and date(), with simplified results (no arguments honoured). Our health check
// uses neither; they exist so a script sees the same names as in Argo CD.
var safeOs = map[string]lua.LGFunction{
	"time": func(l *lua.LState) int {
		l.Push(lua.LNumber(time.Now().Unix()))
		return 1
	},
	"date": func(l *lua.LState) int {
		l.Push(lua.LString(time.Now().UTC().Format(time.RFC3339)))
		return 1
	},
}

// openSafeOs registers the functions the way Argo CD's OpenSafeOs does: under the
// table library's name, so the global `os` stays nil unless a script requires "os".
func openSafeOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.TabLibName, safeOs))
	return 1
}

func safeOsLoader(l *lua.LState) int {
	l.Push(l.SetFuncs(l.NewTable(), safeOs))
	return 1
}

// decodeValue converts an object to Lua as Argo CD does: every number a float, json.Number a string.
func decodeValue(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []any:
		table := l.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(decodeValue(l, item))
		}
		return table
	case map[string]any:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), decodeValue(l, item))
		}
		return table
	}
	return lua.LNil
}

// runScript is Argo CD's runLua: the script run with `obj` (and an empty `actionParams`) set, within a
// second; it returns what the script returned, or the error Argo CD reports (without the stack trace).
func runScript(script string, obj map[string]any, openLibs bool) (lua.LValue, error) {
	l := newState(openLibs)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("actionParams", l.CreateTable(0, 0))
	l.SetGlobal("obj", decodeValue(l, obj))
	fn, err := l.LoadString(script)
	if err == nil {
		l.Push(fn)
		err = l.PCall(0, lua.MultRet, nil)
	}
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Type == lua.ApiErrorRun {
		apiErr.StackTrace = ""
		err = apiErr
	}
	if err != nil {
		return lua.LNil, err
	}
	return l.Get(-1), nil
}

// runHealth is Argo CD's ExecuteHealthLua: run the script with `obj` set, decode what it returns.
func runHealth(script string, obj map[string]any, openLibs bool) (Health, error) {
	returned, err := runScript(script, obj, openLibs)
	if err != nil {
		return Health{}, err
	}
	switch returned.Type() {
	case lua.LTNil:
		return Health{}, nil
	case lua.LTTable:
	default:
		return Health{}, fmt.Errorf("expect table output from Lua script, not %s", returned.Type().String())
	}
	encoded, err := luajson.Encode(returned)
	if err != nil {
		return Health{}, err
	}
	var health Health
	if err := json.Unmarshal(encoded, &health); err != nil {
		typeError := &json.UnmarshalTypeError{Value: "array", Type: reflect.TypeFor[*Health]()}
		if errors.As(err, &typeError) {
			return Health{}, nil // an empty table encodes as []
		}
		return Health{}, err
	}
	if !validHealth[health.Status] {
		return Health{Status: "Unknown", Message: invalidHealthStatus}, nil
	}
	return health, nil
}

// readObjects reads a JSON array of objects from stdin with whole numbers as int64, as the
// Kubernetes client decodes live objects.
func readObjects() ([]map[string]any, error) {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		return nil, err
	}
	var objects []map[string]any
	if err := k8sjson.Unmarshal(data, &objects); err != nil {
		return nil, fmt.Errorf("stdin: %w", err)
	}
	return objects, nil
}

func writeJSON(value any) {
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		panic(err)
	}
}

func healthCommand(args []string) error {
	flags := flag.NewFlagSet("health", flag.ExitOnError)
	openLibs := flags.Bool("open-libs", false, "open every standard library (useOpenLibs, built-in scripts)")
	_ = flags.Parse(args)
	if flags.NArg() != 1 {
		return errors.New("usage: gitops-check health [-open-libs] SCRIPT < objects.json")
	}
	script, err := os.ReadFile(flags.Arg(0))
	if err != nil {
		return err
	}
	objects, err := readObjects()
	if err != nil {
		return err
	}
	results := make([]Result, 0, len(objects))
	for _, obj := range objects {
		health, err := runHealth(string(script), obj, *openLibs)
		if err != nil {
			results = append(results, Result{Error: err.Error()})
			continue
		}
		results = append(results, Result{Status: health.Status, Message: health.Message})
	}
	writeJSON(results)
	return nil
}

// healthTest mirrors Argo CD's TestLuaHealthScript for one resource_customizations directory.
type healthTest struct {
	Tests []struct {
		InputPath    string `json:"inputPath"`
		HealthStatus Health `json:"healthStatus"`
	} `json:"tests"`
}

type caseResult struct {
	InputPath string `json:"inputPath"`
	Expected  Health `json:"expected"`
	Got       Health `json:"got"`
	Error     string `json:"error,omitempty"`
	Passed    bool   `json:"passed"`
}

func healthTestCommand(args []string) (bool, error) {
	flags := flag.NewFlagSet("health-test", flag.ExitOnError)
	openLibs := flags.Bool("open-libs", false, "open every standard library (as Argo CD does for built-in scripts)")
	_ = flags.Parse(args)
	if flags.NArg() != 1 {
		return false, errors.New("usage: gitops-check health-test [-open-libs] DIR")
	}
	dir := flags.Arg(0)
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		return false, err
	}
	table, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		return false, err
	}
	var tests healthTest
	if err := yaml.Unmarshal(table, &tests); err != nil {
		return false, err
	}
	if len(tests.Tests) == 0 {
		return false, fmt.Errorf("%s/health_test.yaml has no tests", dir)
	}
	passed := true
	results := make([]caseResult, 0, len(tests.Tests))
	for _, test := range tests.Tests {
		result := caseResult{InputPath: test.InputPath, Expected: test.HealthStatus}
		// As getObj in Argo CD's test: sigs.k8s.io/yaml into a map, so numbers are float64.
		data, err := os.ReadFile(filepath.Join(dir, test.InputPath))
		obj := map[string]any{}
		if err == nil {
			err = yaml.Unmarshal(data, &obj)
		}
		if err == nil {
			result.Got, err = runHealth(string(script), obj, *openLibs)
		}
		if err != nil {
			result.Error = err.Error()
		}
		result.Passed = err == nil && result.Got == result.Expected
		passed = passed && result.Passed
		results = append(results, result)
	}
	writeJSON(results)
	return passed, nil
}

func kstatusCommand() error {
	objects, err := readObjects()
	if err != nil {
		return err
	}
	results := make([]Result, 0, len(objects))
	for _, obj := range objects {
		computed, err := status.Compute(&unstructured.Unstructured{Object: obj})
		if err != nil {
			results = append(results, Result{Error: err.Error()})
			continue
		}
		results = append(results, Result{Status: computed.Status.String(), Message: computed.Message})
	}
	writeJSON(results)
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gitops-check health-test|health|kstatus|actions-test|discover|action|merge-patch ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "health":
		err = healthCommand(os.Args[2:])
	case "health-test":
		var passed bool
		passed, err = healthTestCommand(os.Args[2:])
		if err == nil && !passed {
			os.Exit(1)
		}
	case "kstatus":
		err = kstatusCommand()
	case "actions-test":
		var passed bool
		passed, err = actionsTestCommand(os.Args[2:])
		if err == nil && !passed {
			os.Exit(1)
		}
	case "discover":
		err = discoverCommand(os.Args[2:])
	case "action":
		err = actionCommand(os.Args[2:])
	case "merge-patch":
		err = mergePatchCommand()
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

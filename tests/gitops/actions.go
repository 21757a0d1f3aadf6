// Argo CD's resource actions (util/lua/lua.go ExecuteResourceActionDiscovery and ExecuteResourceAction,
// util/lua/custom_actions_test.go TestLuaResourceActionsScript), run the way Argo CD runs them.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	jsonpatch "github.com/evanphx/json-patch"
	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	luajson "layeh.com/gopher-json"
	"sigs.k8s.io/yaml"
)

// ResourceActionParam and ResourceAction are Argo CD's appv1 types as discovery fills them.
type ResourceActionParam struct {
	Name    string `json:"name,omitempty"`
	Value   string `json:"value,omitempty"`
	Type    string `json:"type,omitempty"`
	Default string `json:"default,omitempty"`
}

type ResourceAction struct {
	Name        string                `json:"name,omitempty"`
	Params      []ResourceActionParam `json:"params,omitempty"`
	Disabled    bool                  `json:"disabled,omitempty"`
	IconClass   string                `json:"iconClass,omitempty"`
	DisplayName string                `json:"displayName,omitempty"`
}

// Impacted is Argo CD's ImpactedResource: what an action asks the API server to do with one object.
type Impacted struct {
	Object    map[string]any `json:"resource"`
	Operation string         `json:"operation"`
}

// TimePlaceholder in an expected output stands for "a UTC RFC 3339 time taken while the action ran"
// (the role of the per-group normalizers in Argo CD's test).
const TimePlaceholder = "0001-01-01T00:00:00Z"

func tableOutput(returned lua.LValue) ([]byte, error) {
	if returned.Type() != lua.LTTable {
		return nil, fmt.Errorf("expect table output from Lua script, not %s", returned.Type().String())
	}
	return luajson.Encode(returned)
}

// discover is ExecuteResourceActionDiscovery for one discovery script, sorted by name.
func discover(script string, obj map[string]any, openLibs bool) ([]ResourceAction, error) {
	returned, err := runScript(script, obj, openLibs)
	if err != nil {
		return nil, err
	}
	encoded, err := tableOutput(returned)
	if err != nil {
		return nil, fmt.Errorf("error in converting to lua table: %w", err)
	}
	actions := []ResourceAction{}
	if string(encoded) == "[]" { // an empty table: no actions
		return actions, nil
	}
	table := map[string]any{}
	if err := json.Unmarshal(encoded, &table); err != nil {
		return nil, fmt.Errorf("error unmarshaling action table: %w", err)
	}
	for name, value := range table {
		action := ResourceAction{Name: name, Disabled: isActionDisabled(value)}
		if _, empty := value.([]any); !empty {
			data, err := json.Marshal(value)
			if err != nil {
				return nil, fmt.Errorf("error marshaling resource action: %w", err)
			}
			if err := json.Unmarshal(data, &action); err != nil {
				return nil, fmt.Errorf("error unmarshaling resource action: %w", err)
			}
		}
		actions = append(actions, action)
	}
	sort.Slice(actions, func(i, j int) bool { return actions[i].Name < actions[j].Name })
	return actions, nil
}

// isActionDisabled: actions are enabled unless `disabled` is a true boolean.
func isActionDisabled(value any) bool {
	fields, ok := value.(map[string]any)
	if !ok {
		return false
	}
	disabled, ok := fields["disabled"].(bool)
	return ok && disabled
}

// runAction is ExecuteResourceAction: the returned object (old style, a patch of the source object) or a list
// of {operation, resource} (new style), with a patched object's empty tables put back as Argo CD does.
func runAction(script string, obj map[string]any, openLibs bool) ([]Impacted, error) {
	returned, err := runScript(script, obj, openLibs)
	if err != nil {
		return nil, err
	}
	encoded, err := tableOutput(returned)
	if err != nil {
		return nil, err
	}
	if len(encoded) < 2 {
		return nil, errors.New("Lua output was not a valid json object or array")
	}
	var impacted []Impacted
	if encoded[0] == '[' && encoded[len(encoded)-1] == ']' {
		var wrapped []struct {
			Resource  *unstructured.Unstructured `json:"resource"`
			Operation string                     `json:"operation"`
		}
		if err := json.Unmarshal(encoded, &wrapped); err != nil {
			return nil, err
		}
		for _, item := range wrapped {
			if item.Operation != "create" && item.Operation != "patch" {
				return nil, fmt.Errorf("unsupported operation: %q", item.Operation)
			}
			var object map[string]any
			if item.Resource != nil {
				object = item.Resource.Object
			}
			impacted = append(impacted, Impacted{Object: object, Operation: item.Operation})
		}
	} else {
		var object unstructured.Unstructured
		if err := json.Unmarshal(encoded, &object); err != nil {
			return nil, err
		}
		impacted = append(impacted, Impacted{Object: object.Object, Operation: "patch"})
	}
	for i := range impacted {
		if impacted[i].Operation == "patch" && impacted[i].Object != nil {
			impacted[i].Object = cleanReturnedObj(impacted[i].Object, obj)
		}
	}
	return impacted, nil
}

// cleanReturnedObj is Argo CD's: Lua cannot tell an empty object from an empty array, so an empty table
// where the source object had an object becomes an empty object again.
func cleanReturnedObj(newObj, obj map[string]any) map[string]any {
	for key := range obj {
		newValue, ok := newObj[key]
		if !ok {
			continue
		}
		switch value := newValue.(type) {
		case map[string]any:
			if old, ok := obj[key].(map[string]any); ok {
				newObj[key] = cleanReturnedObj(value, old)
			}
		case []any:
			switch old := obj[key].(type) {
			case map[string]any:
				if len(value) == 0 {
					newObj[key] = map[string]any{}
				}
			case []any:
				newObj[key] = cleanReturnedArray(value, old)
			}
		}
	}
	return newObj
}

func cleanReturnedArray(newObj, obj []any) []any {
	for i := range newObj {
		if i >= len(obj) {
			break
		}
		switch value := newObj[i].(type) {
		case map[string]any:
			if old, ok := obj[i].(map[string]any); ok {
				newObj[i] = cleanReturnedObj(value, old)
			}
		case []any:
			if old, ok := obj[i].([]any); ok {
				newObj[i] = cleanReturnedArray(value, old)
			}
		}
	}
	return newObj
}

// actionTest is action_test.yaml as Argo CD's ActionTestStructure reads it.
type actionTest struct {
	DiscoveryTests []struct {
		InputPath string           `json:"inputPath"`
		Result    []ResourceAction `json:"result"`
	} `json:"discoveryTests"`
	ActionTests []struct {
		Action               string `json:"action"`
		InputPath            string `json:"inputPath"`
		ExpectedOutputPath   string `json:"expectedOutputPath"`
		ExpectedErrorMessage string `json:"expectedErrorMessage"`
	} `json:"actionTests"`
}

type actionCaseResult struct {
	Kind      string `json:"kind"` // discovery | action
	Action    string `json:"action,omitempty"`
	InputPath string `json:"inputPath"`
	Expected  any    `json:"expected"`
	Got       any    `json:"got"`
	Error     string `json:"error,omitempty"`
	Passed    bool   `json:"passed"`
}

// readObject reads a test file as getObj does: sigs.k8s.io/yaml into a map (numbers float64).
func readObject(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	return obj, yaml.Unmarshal(data, &obj)
}

// readExpected reads an expected output as getExpectedObjectList does: a list of {unstructuredObj} when the
// file starts with '-', else one object.
func readExpected(path string) ([]map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(data, []byte("-")) {
		var wrapped []struct {
			UnstructuredObj map[string]any `json:"unstructuredObj"`
		}
		if err := yaml.Unmarshal(data, &wrapped); err != nil {
			return nil, err
		}
		objects := make([]map[string]any, 0, len(wrapped))
		for _, item := range wrapped {
			objects = append(objects, item.UnstructuredObj)
		}
		return objects, nil
	}
	obj := map[string]any{}
	return []map[string]any{obj}, yaml.Unmarshal(data, &obj)
}

// canonical is the object as JSON would carry it to the API server (every number a float64).
func canonical(obj map[string]any) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, json.Unmarshal(data, &out)
}

func annotationsOf(obj map[string]any) map[string]any {
	meta, _ := obj["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	return annotations
}

// settleTimes replaces, in got, each annotation the expected object gives as TimePlaceholder by the
// placeholder, provided it is a UTC RFC 3339 time within [since, now] (to the second).
func settleTimes(expected, got map[string]any, since time.Time) error {
	want, have := annotationsOf(expected), annotationsOf(got)
	for key, value := range want {
		if value != TimePlaceholder {
			continue
		}
		text, _ := have[key].(string)
		at, err := time.Parse(time.RFC3339, text)
		if err != nil || at.Location() != time.UTC {
			return fmt.Errorf("annotation %s: %q is not a UTC RFC 3339 time", key, text)
		}
		if at.Before(since.Truncate(time.Second)) || at.After(time.Now().UTC()) {
			return fmt.Errorf("annotation %s: %s is not the time the action ran", key, text)
		}
		have[key] = TimePlaceholder
	}
	return nil
}

func sameObject(a, b map[string]any) bool {
	key := func(o map[string]any) [4]string {
		meta, _ := o["metadata"].(map[string]any)
		field := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
		return [4]string{field(o, "apiVersion"), field(o, "kind"), field(meta, "name"), field(meta, "namespace")}
	}
	return key(a) == key(b)
}

func checkAction(dir, action, inputPath, expectedPath, expectedError string, openLibs bool) actionCaseResult {
	result := actionCaseResult{Kind: "action", Action: action, InputPath: inputPath}
	fail := func(err error) actionCaseResult { result.Error = err.Error(); return result }
	script, err := os.ReadFile(filepath.Join(dir, action, "action.lua"))
	if err != nil {
		return fail(err)
	}
	source, err := readObject(filepath.Join(dir, inputPath))
	if err != nil {
		return fail(err)
	}
	since := time.Now().UTC()
	impacted, err := runAction(string(script), source, openLibs)
	if expectedError != "" {
		result.Expected = expectedError
		if err != nil {
			result.Got = err.Error()
		}
		result.Passed = err != nil && err.Error() == expectedError
		return result
	}
	if err != nil {
		return fail(err)
	}
	expected, err := readExpected(filepath.Join(dir, expectedPath))
	if err != nil {
		return fail(err)
	}
	result.Expected = expected
	got := make([]map[string]any, 0, len(impacted))
	for _, item := range impacted {
		object, err := canonical(item.Object)
		if err != nil {
			return fail(err)
		}
		got = append(got, object)
	}
	result.Got = got
	if len(got) != len(expected) {
		return fail(fmt.Errorf("the action returned %d object(s), the expected output has %d", len(got), len(expected)))
	}
	for i, item := range impacted {
		if item.Operation == "patch" && !sameObject(got[i], source) {
			return fail(errors.New("a patch must return the source object (same kind, name and namespace)"))
		}
		match := -1
		for j := range expected {
			if sameObject(expected[j], got[i]) {
				match = j
				break
			}
		}
		if match < 0 {
			return fail(fmt.Errorf("object %d: not in the expected output", i))
		}
		want, err := canonical(expected[match])
		if err != nil {
			return fail(err)
		}
		if err := settleTimes(want, got[i], since); err != nil {
			return fail(err)
		}
		if !reflect.DeepEqual(want, got[i]) {
			return fail(fmt.Errorf("object %d differs from %s", i, expectedPath))
		}
	}
	result.Passed = true
	return result
}

func checkDiscovery(script []byte, dir, inputPath string, expected []ResourceAction, openLibs bool) actionCaseResult {
	sorted := append([]ResourceAction(nil), expected...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	result := actionCaseResult{Kind: "discovery", InputPath: inputPath, Expected: sorted}
	obj, err := readObject(filepath.Join(dir, inputPath))
	if err == nil {
		var got []ResourceAction
		got, err = discover(string(script), obj, openLibs)
		result.Got = got
		// Argo CD's test asks that every listed action be expected; this one also that every expected be listed.
		result.Passed = err == nil && reflect.DeepEqual(got, sorted)
	}
	if err != nil {
		result.Error = err.Error()
	}
	return result
}

func actionsTestCommand(args []string) (bool, error) {
	flags := flag.NewFlagSet("actions-test", flag.ExitOnError)
	openLibs := flags.Bool("open-libs", false, "open every standard library (built-in scripts' discovery)")
	_ = flags.Parse(args)
	if flags.NArg() != 1 {
		return false, errors.New("usage: gitops-check actions-test [-open-libs] DIR")
	}
	dir := flags.Arg(0)
	data, err := os.ReadFile(filepath.Join(dir, "action_test.yaml"))
	if err != nil {
		return false, err
	}
	var tests actionTest
	if err := yaml.Unmarshal(data, &tests); err != nil {
		return false, err
	}
	if len(tests.DiscoveryTests)+len(tests.ActionTests) == 0 {
		return false, fmt.Errorf("%s/action_test.yaml has no tests", dir)
	}
	script, err := os.ReadFile(filepath.Join(dir, "discovery.lua"))
	if err != nil {
		return false, err
	}
	results := []actionCaseResult{}
	for _, test := range tests.DiscoveryTests {
		results = append(results, checkDiscovery(script, dir, test.InputPath, test.Result, *openLibs))
	}
	for _, test := range tests.ActionTests {
		results = append(results, checkAction(
			dir, test.Action, test.InputPath, test.ExpectedOutputPath, test.ExpectedErrorMessage, *openLibs,
		))
	}
	passed := true
	for _, result := range results {
		passed = passed && result.Passed
	}
	writeJSON(results)
	return passed, nil
}

// readOneObject reads one object from stdin (JSON, whole numbers int64 as the Kubernetes client decodes them).
func readOneObject() (map[string]any, error) {
	objects, err := readObjects()
	if err != nil {
		return nil, err
	}
	if len(objects) != 1 {
		return nil, fmt.Errorf("stdin: want one object in a JSON array, got %d", len(objects))
	}
	return objects[0], nil
}

// scriptAndObject parses `[-open-libs] DIR [ACTION]`, reads DIR[/ACTION]/file and one object from stdin.
func scriptAndObject(command string, args []string, file string, withAction bool) (string, map[string]any, bool, error) {
	flags := flag.NewFlagSet(command, flag.ExitOnError)
	openLibs := flags.Bool("open-libs", false, "open every standard library")
	_ = flags.Parse(args)
	want, usage := 1, "DIR"
	if withAction {
		want, usage = 2, "DIR ACTION"
	}
	if flags.NArg() != want {
		return "", nil, false, fmt.Errorf("usage: gitops-check %s [-open-libs] %s < [object]", command, usage)
	}
	script, err := os.ReadFile(filepath.Join(append(flags.Args(), file)...))
	if err != nil {
		return "", nil, false, err
	}
	obj, err := readOneObject()
	return string(script), obj, *openLibs, err
}

func discoverCommand(args []string) error {
	script, obj, openLibs, err := scriptAndObject("discover", args, "discovery.lua", false)
	if err != nil {
		return err
	}
	actions, err := discover(script, obj, openLibs)
	if err != nil {
		return err
	}
	writeJSON(actions)
	return nil
}

func actionCommand(args []string) error {
	script, obj, openLibs, err := scriptAndObject("action", args, "action.lua", true)
	if err != nil {
		return err
	}
	impacted, err := runAction(script, obj, openLibs)
	if err != nil {
		return err
	}
	writeJSON(impacted)
	return nil
}

// mergePatchCommand is how Argo CD's API server applies an action's patch (server/application's patchResource):
// stdin [live, new]; stdout the JSON merge patch jsonpatch.CreateMergePatch makes, sent as a merge patch.
func mergePatchCommand() error {
	objects, err := readObjects()
	if err != nil {
		return err
	}
	if len(objects) != 2 {
		return fmt.Errorf("stdin: want [live, new], got %d object(s)", len(objects))
	}
	live, err := json.Marshal(objects[0])
	if err != nil {
		return err
	}
	updated, err := json.Marshal(objects[1])
	if err != nil {
		return err
	}
	patch, err := jsonpatch.CreateMergePatch(live, updated)
	if err != nil {
		return fmt.Errorf("error calculating merge patch: %w", err)
	}
	_, err = os.Stdout.Write(append(patch, '\n'))
	return err
}

// The sandbox (pause) binary of the local test node; no dependencies.
module github.com/personalize-operator/pause

go 1.26.0

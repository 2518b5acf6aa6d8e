// Command emptylambda is the reference for the cold-start measurement: a Lambda
// function that does nothing, run under the same emulator as tickflow's
// bootstrap, so the report can tell the emulator's and the process's own cost
// from tickflow's.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (map[string]string, error) {
		return map[string]string{"tick_id": "empty"}, nil
	})
}

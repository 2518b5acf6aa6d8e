//go:build tools

// Package tools pins modules that later packages use, so go mod tidy keeps them. Temporary.
package tools

import (
	_ "github.com/aws/aws-lambda-go/lambda"
	_ "github.com/gorhill/cronexpr"
	_ "github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite"
	_ "github.com/chromedp/chromedp"
	_ "gopkg.in/yaml.v3"
)

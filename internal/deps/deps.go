// Package deps pins the modules the project builds on until real code imports them.
package deps

import (
	_ "github.com/pb33f/libopenapi"
	_ "github.com/pb33f/libopenapi/what-changed"
	_ "github.com/sashabaranov/go-openai"
	_ "github.com/stretchr/testify/require"
	_ "github.com/temporalio/ui-server/v2/server"
	_ "github.com/temporalio/ui-server/v2/server/config"
	_ "go.opentelemetry.io/otel/exporters/prometheus"
	_ "go.temporal.io/sdk/client"
	_ "go.temporal.io/sdk/contrib/envconfig"
	_ "go.temporal.io/sdk/contrib/opentelemetry"
	_ "go.temporal.io/sdk/testsuite"
	_ "go.temporal.io/server/temporal"
	_ "go.temporal.io/server/temporaltest"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	_ "go.uber.org/zap"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob"
	_ "gopkg.in/yaml.v3"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
)

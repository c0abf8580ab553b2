package devserver_test

import (
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func converterGet(payloads *commonpb.Payloads, out any) error {
	return converter.GetDefaultDataConverter().FromPayloads(payloads, out)
}

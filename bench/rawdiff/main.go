// Command rawdiff is raw libopenapi, the reference `starter diff` is
// measured against: it parses two documents and runs CompareDocuments with
// libopenapi's defaults, printing the number of changes and breaking
// changes libopenapi finds. With -parse it parses one document and builds
// its model, the reference for `starter validate` and the sync's parse step.
//
//	rawdiff OLD NEW
//	rawdiff -parse FILE
package main

import (
	"fmt"
	"os"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/utils"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: rawdiff OLD NEW | rawdiff -parse FILE")
		os.Exit(2)
	}
	if os.Args[1] == "-parse" {
		parseOnly(os.Args[2])
		return
	}
	var docs [2]libopenapi.Document
	for i, f := range os.Args[1:] {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "rawdiff:", err)
			os.Exit(1)
		}
		docs[i], err = libopenapi.NewDocumentWithConfiguration(data, datamodel.NewDocumentConfiguration())
		if err != nil {
			fmt.Fprintln(os.Stderr, "rawdiff:", err)
			os.Exit(1)
		}
	}
	changes, errs := libopenapi.CompareDocuments(docs[0], docs[1])
	if errs != nil {
		fmt.Fprintln(os.Stderr, "rawdiff:", errs)
		os.Exit(1)
	}
	total, breaking := 0, 0
	if changes != nil {
		total, breaking = changes.TotalChanges(), changes.TotalBreakingChanges()
	}
	fmt.Printf("{\"total\":%d,\"breaking\":%d}\n", total, breaking)
}

// parseOnly parses a document and builds its OpenAPI 3 (or Swagger 2) model.
func parseOnly(file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawdiff:", err)
		os.Exit(1)
	}
	doc, err := libopenapi.NewDocumentWithConfiguration(data, datamodel.NewDocumentConfiguration())
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawdiff:", err)
		os.Exit(1)
	}
	paths := 0
	if doc.GetSpecInfo().SpecType == utils.OpenApi2 {
		m, err := doc.BuildV2Model()
		if err != nil {
			fmt.Fprintln(os.Stderr, "rawdiff:", err)
			os.Exit(1)
		}
		if m.Model.Paths != nil {
			paths = m.Model.Paths.PathItems.Len()
		}
	} else {
		m, err := doc.BuildV3Model()
		if err != nil {
			fmt.Fprintln(os.Stderr, "rawdiff:", err)
			os.Exit(1)
		}
		if m.Model.Paths != nil {
			paths = m.Model.Paths.PathItems.Len()
		}
	}
	fmt.Printf("{\"paths\":%d}\n", paths)
}

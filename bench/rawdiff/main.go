// Command rawdiff is raw libopenapi, the reference `starter diff` is
// measured against: it parses two documents and runs CompareDocuments with
// libopenapi's defaults, printing the number of changes and breaking
// changes libopenapi finds.
//
//	rawdiff OLD NEW
package main

import (
	"fmt"
	"os"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: rawdiff OLD NEW")
		os.Exit(2)
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

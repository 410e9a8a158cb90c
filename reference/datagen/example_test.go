package datagen_test

import (
	"fmt"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/datagen"
)

func ExampleStats_String() {
	s := datagen.Stats{
		Tables: []datagen.TableStats{
			{Name: "orders", Rows: 1_000_000, Duration: 2100 * time.Millisecond},
			{Name: "order_lines", Rows: 2_998_844, Duration: 2900 * time.Millisecond},
		},
		Phases: []datagen.PhaseStats{
			{Name: datagen.PhaseCreate, Duration: 20 * time.Millisecond},
			{Name: datagen.PhaseCopy, Duration: 3 * time.Second},
			{Name: "indexes", Duration: 2500 * time.Millisecond},
		},
		Total: 5520 * time.Millisecond,
	}
	fmt.Print(s)
	// Output:
	// phase                   rows  seconds
	// create schema                    0.02
	// copy rows          3,998,844     3.00
	//   orders           1,000,000     2.10
	//   order_lines      2,998,844     2.90
	// indexes                          2.50
	// total                            5.52
}

func ExampleOrderNumber() {
	fmt.Println(datagen.OrderNumber(123456))
	// Output: ORD-0000123456
}

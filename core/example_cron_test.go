package core_test

import (
	"fmt"
	"time"

	"github.com/tickflow/tickflow/core"
)

// On 2026-03-08 New York springs forward from 02:00 EST to 03:00 EDT, so
// 02:30 does not exist that day: the schedule fires at 02:30 read with the
// offset in force before the gap, which is 03:30 EDT.
func ExampleParseCron() {
	s, err := core.ParseCron("30 2 * * *", "America/New_York")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Describe())
	t := time.Date(2026, 3, 7, 17, 0, 0, 0, time.UTC)
	for range 3 {
		t = s.Next(t)
		fmt.Println(t.Format(time.RFC3339), "=", t.In(s.Location()).Format("2006-01-02 15:04 MST"))
	}
	// Output:
	// at 02:30 every day, America/New_York
	// 2026-03-08T07:30:00Z = 2026-03-08 03:30 EDT
	// 2026-03-09T06:30:00Z = 2026-03-09 02:30 EDT
	// 2026-03-10T06:30:00Z = 2026-03-10 02:30 EDT
}

package procstat

import (
	"os"
	"testing"
)

func TestReadSeesAnOpenFile(t *testing.T) {
	before := Read()
	if before.OpenFiles < 3 || before.RSSKiB <= 0 {
		t.Skipf("no /proc here: %+v", before)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if after := Read(); after.OpenFiles != before.OpenFiles+1 {
		t.Fatalf("open files %d, then %d after opening one", before.OpenFiles, after.OpenFiles)
	}
	if none := ReadPID("no-such-pid"); none.OpenFiles != -1 || none.RSSKiB != -1 {
		t.Fatalf("a missing process reads as %+v", none)
	}
}

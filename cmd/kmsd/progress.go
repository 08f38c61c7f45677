package main

import (
	"fmt"
	"io"
	"time"
)

// progressReader draws a one-line progress bar on a terminal while
// its reader is read.
type progressReader struct {
	r     io.Reader
	w     io.Writer
	label string
	size  int64 // -1: unknown
	done  int64
	last  time.Time
}

// progress wraps r with a progress bar on stderr when stderr is a
// terminal and --quiet is not set.
func (e *kmsEnv) progress(r io.Reader, size int64, label string) io.Reader {
	if !e.tty || e.o.quiet {
		return r
	}
	return &progressReader{r: r, w: e.stderr, label: label, size: size}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if now := time.Now(); err != nil || now.Sub(p.last) > 100*time.Millisecond {
		p.last = now
		p.draw(err != nil)
	}
	return n, err
}

func (p *progressReader) draw(final bool) {
	line := fmt.Sprintf("\r%s %s", p.label, bytesText(p.done))
	if p.size > 0 {
		line = barLine(p.label, float64(p.done)/float64(p.size), bytesText(p.done)+" / "+bytesText(p.size))
	}
	if final {
		line += "\n"
	}
	io.WriteString(p.w, line)
}

// barLine is one drawing of a progress bar: "\rLABEL [===   ]  45% TEXT".
func barLine(label string, frac float64, text string) string {
	const width = 30
	frac = max(0, min(frac, 1))
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if float64(i) < frac*width {
			bar[i] = '='
		}
	}
	return fmt.Sprintf("\r%s [%s] %3.0f%% %s", label, bar, 100*frac, text)
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// progressCount returns a function that draws a progress bar of records
// on w as it is told how many are done out of how many; the last drawing
// (done == total) ends the line.
func progressCount(w io.Writer, label string) func(done, total int64) {
	var last time.Time
	finished := false
	return func(done, total int64) {
		now := time.Now()
		if finished || (done != total && now.Sub(last) <= 100*time.Millisecond) {
			return
		}
		last = now
		frac := 1.0
		if total > 0 {
			frac = float64(done) / float64(total)
		}
		line := barLine(label, frac, fmt.Sprintf("%d / %d records", done, total))
		if done == total {
			line += "\n"
			finished = true
		}
		io.WriteString(w, line)
	}
}

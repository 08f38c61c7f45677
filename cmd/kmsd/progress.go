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
	// unit formats done and size; bytesText when nil.
	unit func(int64) string
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
	const width = 30
	text := p.unit
	if text == nil {
		text = bytesText
	}
	line := fmt.Sprintf("\r%s %s", p.label, text(p.done))
	if p.size > 0 {
		frac := float64(p.done) / float64(p.size)
		frac = min(frac, 1)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if float64(i) < frac*width {
				bar[i] = '='
			}
		}
		line = fmt.Sprintf("\r%s [%s] %3.0f%% %s / %s", p.label, bar, 100*frac, text(p.done), text(p.size))
	}
	if final {
		line += "\n"
	}
	io.WriteString(p.w, line)
}

// progressCount returns a function that draws a progress bar of records
// on w as it is told how many are done out of how many.
func progressCount(w io.Writer, label string) func(done, total int64) {
	p := &progressReader{w: w, label: label, unit: func(n int64) string { return fmt.Sprintf("%d records", n) }}
	return func(done, total int64) {
		p.done, p.size = done, total
		if now := time.Now(); done == total || now.Sub(p.last) > 100*time.Millisecond {
			p.last = now
			p.draw(done == total && total > 0)
		}
	}
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

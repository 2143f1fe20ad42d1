package render

// Options tune the rich (non-text) renderings. The zero value gives the
// defaults. Text and JSON never depend on them.
type Options struct {
	// Width of plots in CSS pixels (DefaultWidth when 0).
	Width float64
	// TopN is how many keys a bar chart shows (DefaultTopN when 0); the
	// rest are counted in a note.
	TopN int
	// Panels caps the panels of a keyed histogram (DefaultPanels when 0).
	Panels int
	// Lines caps the lines of a time series (DefaultLines when 0).
	Lines int
	// TableRows caps the rows of an HTML table (DefaultTableRows when 0).
	TableRows int
	// NoPlots leaves SVG out of bundles (text, HTML and JSON only).
	NoPlots bool

	// compact draws time series as the live display's small panels.
	compact bool
}

func (o Options) withDefaults() Options {
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	if o.TopN <= 0 {
		o.TopN = DefaultTopN
	}
	if o.Panels <= 0 {
		o.Panels = DefaultPanels
	}
	if o.Lines <= 0 {
		o.Lines = DefaultLines
	}
	return o
}

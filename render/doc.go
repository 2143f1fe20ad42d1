// Package render turns runtime/value data into what people see: text
// byte-identical to bpftrace 0.17's, its NDJSON (-f json), caret
// diagnostics, and, for notebooks, SVG plots, HTML tables and MIME bundles.
//
// For the command line:
//
//	AttachText(n) / AttachJSON(n)        "Attaching N probes..."
//	EventText(e) / EventJSON(e)          one event, and the stream it goes to
//	ExitText(maps) / ExitJSON(maps)      "\n\n" and every map by name
//	MapsText(maps)                       every map (SIGUSR1 style)
//	MapText(m, top, div) / MapJSON(...)  print(@m, top, div)
//	DiagsText(ds) / DiagText(d)          compile errors and warnings
//
// For the notebook (each returns a Bundle with text/plain, and SVG, HTML or
// application/json where they fit):
//
//	MapBundle(m, opts), PrintMapBundle(e, opts), ExitBundles(maps, opts)
//	ValueBundle(v), EventBundle(e, opts)  (nil for stream events)
//	LiveBundle(maps, status, timeline, opts)
//	SeriesBundle(series, opts), DiagBundle(ds), DiagTraceback(ds)
//
// A map read again and again (its prints, or the live display's readings)
// is a Series, and a Timeline holds one per map; SeriesPlottable tells
// which maps make one, SeriesSVG draws it (LinesSVG, HeatmapSVG).
//
// Lower-level pieces: Printf, ValueText, KeyText, HistText, LhistText,
// HistLabel, LhistLabel, Strftime, CStrftime, SortedEntries, TopEntries,
// HistSVG, KeyedHistSVG, BarsSVG, FlameSVG, SeriesSVG, TableHTML.
//
// Text and JSON formats are facts observed by running bpftrace 0.17 (the
// golden files under testdata/golden were recorded from it); the code here
// is written from those observations. Where 0.17 produces invalid output
// (JSON of a few value kinds, hist buckets capped at 4G) the fixed
// behaviour of later releases is used instead, and the place says so.
package render

package main

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// series is one bar per group of a grouped bar chart.
type series struct {
	name   string
	values []float64
}

// barChart saves a grouped bar chart as an SVG file: one group per x label, one bar per
// series in each group.
func barChart(file, title, yLabel string, groups []string, ss []series) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.NominalX(groups...)
	p.Legend.Top = true
	colors := []color.Color{
		color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
		color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
		color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
		color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
		color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
		color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	}
	w := vg.Points(60 / float64(max(1, len(ss))))
	for i, s := range ss {
		bars, err := plotter.NewBarChart(plotter.Values(s.values), w)
		if err != nil {
			return err
		}
		bars.LineStyle.Width = 0
		bars.Color = colors[i%len(colors)]
		bars.Offset = w * vg.Length(float64(i)-float64(len(ss)-1)/2)
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	return p.Save(vg.Length(110*len(groups))+2*vg.Inch, 4*vg.Inch, file)
}

// memoryChart is the memory decision's median ns/op per library, serial and parallel.
func (rp *report) memoryChart(file string) error {
	libs := append([]string{ours}, memPeers...)
	var ss []series
	for _, mode := range []string{"serial", "parallel"} {
		s := series{name: mode}
		for _, lib := range libs {
			st, _ := rp.run.get(memBench+"/lib="+lib+"/run="+mode, "ns/op")
			s.values = append(s.values, st.med)
		}
		ss = append(ss, s)
	}
	return barChart(file, "Memory decision, 100,000 live keys (median, lower is better)", "ns/op", libs, ss)
}

// middlewareChart is each middleware's median overhead over the bare router.
func (rp *report) middlewareChart(file string) error {
	var ss []series
	for _, mw := range append([]string{ours}, mwPeers...) {
		s := series{name: mw}
		for _, rt := range routers {
			ov, ok := rp.overhead(rt, mw)
			if !ok {
				ov = 0
			}
			s.values = append(s.values, ov)
		}
		ss = append(ss, s)
	}
	return barChart(file, "Middleware overhead over the bare router (median, lower is better)", "ns per request", routers, ss)
}

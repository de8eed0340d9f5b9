package portal

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/speedtest"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// RegisterMeasure adds the speed-test page (/speedtest: runs the test
// against the LibreSpeed backend the API package mounts under /speedtest/,
// shows the line's speed and the history) and traffic by class
// (/traffic/classes: a chart per day and class). Their templates are the
// "measure" area (web/templates/measure/), tested by internal/web/api.
func (po *Portal) RegisterMeasure(tests *speedtest.Service) {
	for id, m := range measureMessages {
		po.p.I18n.Add(id, m[0], m[1])
	}
	po.p.Page("GET /speedtest", po.auth(func(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
		po.speedtestPage(w, r, a, tests)
	}))
	po.p.Page("GET /traffic/classes", po.auth(po.trafficClasses))
}

type speedtestData struct {
	Line    billing.Speed
	History []speedtest.Result
}

func (po *Portal) speedtestPage(w http.ResponseWriter, r *http.Request, a subscriber.Account, tests *speedtest.Service) {
	var d speedtestData
	var err error
	if d.Line, err = tests.LineSpeed(r.Context(), a.ID); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	if d.History, err = tests.History(r.Context(), a.ID, 20); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.p.HTML(w, r, http.StatusOK, "measure/speedtest", "", po.view(r, a, "speedtest.title", "speedtest", d))
}

type classBar struct {
	Class, Name string
	Color       string
	Bytes       int64
	Y, H        int64 // in the chart's 0..100 box, stacked
}

type classDay struct {
	Day   string
	Total int64
	Bars  []classBar
}

type classesData struct {
	PeriodForm
	Until   string     // the last day shown, YYYY-MM-DD
	Classes []classBar // legend: class, name, colour, total bytes
	Days    []classDay
}

// classColors are fixed per position so a class keeps its colour in every
// chart (presentation attributes, allowed by the CSP, unlike inline style).
var classColors = []string{"#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#e53935", "#00897b", "#6d4c41"}

func (po *Portal) trafficClasses(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	p, form, ok := po.period(r, statement.LastDays(po.p.Clock.Now(), po.p.Zone, 30), statement.MaxTrafficDays)
	status := http.StatusOK
	if !ok {
		status = http.StatusUnprocessableEntity
	}
	d := classesData{PeriodForm: form, Until: p.ToISO()}
	classes, err := netflow.Classes(r.Context(), po.d.DB)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	us, err := netflow.Usage(r.Context(), po.d.DB, a.ID, p.FromISO(), p.ToISO())
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	lang := po.p.LangOf(r)
	idx := map[string]int{}
	for i, c := range classes {
		idx[c.Code] = i
		d.Classes = append(d.Classes, classBar{Class: c.Code, Name: pick(lang, c.Name, c.NameEn), Color: classColors[i%len(classColors)]})
	}
	var maxDay int64
	for _, u := range us {
		i, ok := idx[u.Class]
		if !ok { // a class deleted since: keep its bytes visible under its code
			i = len(d.Classes)
			idx[u.Class] = i
			d.Classes = append(d.Classes, classBar{Class: u.Class, Name: u.Class, Color: classColors[i%len(classColors)]})
		}
		n := u.InputOctets + u.OutputOctets
		d.Classes[i].Bytes += n
		if len(d.Days) == 0 || d.Days[len(d.Days)-1].Day != u.Day {
			d.Days = append(d.Days, classDay{Day: u.Day})
		}
		day := &d.Days[len(d.Days)-1]
		day.Total += n
		day.Bars = append(day.Bars, classBar{Class: u.Class, Name: d.Classes[i].Name, Color: d.Classes[i].Color, Bytes: n})
		maxDay = max(maxDay, day.Total)
	}
	for i := range d.Days {
		y := int64(100)
		for j := range d.Days[i].Bars {
			b := &d.Days[i].Bars[j]
			if maxDay > 0 {
				b.H = max(1, b.Bytes*100/maxDay)
			}
			y -= b.H
			b.Y = y
		}
	}
	po.p.HTML(w, r, status, "measure/classes", "", po.view(r, a, "classes.title", "classes", d))
}

var measureMessages = map[string][2]string{
	"speedtest.title":           {"Проверка скорости", "Speed test"},
	"speedtest.heading":         {"Проверка скорости", "Speed test"},
	"speedtest.line":            {"Скорость по тарифу", "Your tariff's speed"},
	"speedtest.limited":         {"ограничена за долг", "limited for debt"},
	"speedtest.boosted":         {"с ускорением", "boosted"},
	"speedtest.start":           {"Начать проверку", "Start the test"},
	"speedtest.hint":            {"Для точного результата подключите компьютер кабелем и закройте загрузки.", "For an accurate result, connect by cable and pause downloads."},
	"speedtest.ping":            {"Пинг", "Ping"},
	"speedtest.jitter":          {"Джиттер", "Jitter"},
	"speedtest.download":        {"Загрузка", "Download"},
	"speedtest.upload":          {"Отдача", "Upload"},
	"speedtest.history":         {"Прошлые проверки", "Earlier tests"},
	"speedtest.none":            {"Проверок ещё не было.", "No tests yet."},
	"speedtest.when":            {"Когда", "When"},
	"speedtest.of_tariff":       {"от тарифа", "of tariff"},
	"speedtest.of":              {"{{.Got}} Мбит/с из {{.Of}}", "{{.Got}} of {{.Of}} Mbit/s"},
	"speedtest.mbps":            {"Мбит/с", "Mbit/s"},
	"speedtest.result":          {"Итог", "Verdict"},
	"speedtest.ms":              {"мс", "ms"},
	"speedtest.verdict.good":    {"Соответствует тарифу", "As the tariff promises"},
	"speedtest.verdict.slow":    {"Ниже тарифа", "Below the tariff"},
	"speedtest.verdict.limited": {"Ограничение за долг", "Limited for debt"},
	"speedtest.verdict.unknown": {"—", "—"},
	"speedtest.classes_link":    {"Трафик по направлениям", "Traffic by destination"},
	"classes.title":             {"Трафик по направлениям", "Traffic by destination"},
	"classes.heading":           {"Трафик по направлениям", "Traffic by destination"},
	"classes.chart":             {"Трафик по дням и направлениям", "Traffic per day and destination"},
	"classes.none":              {"За этот период данных нет.", "No data for this period."},
	"classes.total":             {"Всего", "Total"},
	"classes.back":              {"Трафик и сессии", "Traffic and sessions"},
}

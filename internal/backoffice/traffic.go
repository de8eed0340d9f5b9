package backoffice

import (
	"context"
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/operator"
)

// TrafficClasses lists the traffic classes (catalogue permission).
func (o *Office) TrafficClasses(ctx context.Context, w Who) ([]netflow.Class, error) {
	if err := w.must(operator.EditCatalogue); err != nil {
		return nil, err
	}
	return netflow.Classes(ctx, o.DB)
}

// classView is what the audit log keeps of a class.
func classView(c netflow.Class) map[string]any {
	ps := make([]string, len(c.Prefixes))
	for i, p := range c.Prefixes {
		ps[i] = p.String()
	}
	return map[string]any{"code": c.Code, "name": c.Name, "name_en": c.NameEn, "prefixes": ps, "position": c.Position}
}

// SaveTrafficClass adds a class (add true: refused when the code exists) or
// changes one (add false: refused when it does not). The collectors pick
// the change up at their next refresh of classes (30 s by default).
func (o *Office) SaveTrafficClass(ctx context.Context, w Who, c netflow.Class, add bool) error {
	if err := w.must(operator.EditCatalogue); err != nil {
		return err
	}
	c.Code = strings.ToLower(strings.TrimSpace(c.Code))
	c.Name, c.NameEn = strings.TrimSpace(c.Name), strings.TrimSpace(c.NameEn)
	classes, err := netflow.Classes(ctx, o.DB)
	if err != nil {
		return err
	}
	var before *netflow.Class
	for i := range classes {
		if classes[i].Code == c.Code {
			before = &classes[i]
		}
	}
	switch {
	case add && before != nil:
		return fmt.Errorf("traffic class %s: %w", c.Code, derrors.Exists)
	case !add && before == nil:
		return fmt.Errorf("traffic class %s: %w", c.Code, derrors.NotFound)
	}
	for _, r := range c.Code {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("traffic class %q: the code is latin letters, digits, - and _: %w", c.Code, netflow.ErrClass)
		}
	}
	if err := netflow.SaveClass(ctx, o.DB, c); err != nil {
		return err
	}
	e := operator.Entry{Action: "traffic_class.add", Object: "traffic_class:" + c.Code, After: classView(c)}
	if before != nil {
		e.Action, e.Before = "traffic_class.update", classView(*before)
	}
	return o.Operators.Record(ctx, w.Actor(), e)
}

package documents

// RenderSubset draws d with the prepared font subsets, calling missing for
// each character they lack.
var RenderSubset = renderSubset

// Subsetted says whether Render draws d with the prepared subsets.
func (s *Service) Subsetted(d Data) bool { return s.subset.covers(d) }

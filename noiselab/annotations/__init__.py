"""Staff annotations of periods and places as the answers use them: :class:`AnnotationSpans`,
the :class:`~noiselab.validity.SpanSource` of cause ``"annotation"``, and the rows of the
Grafana annotation feed (:mod:`noiselab.annotations.feed`). The annotations themselves are
kept by :class:`~noiselab.store.metadata.AnnotationRepository`."""

from noiselab.annotations.feed import FeedRow, feed_rows
from noiselab.annotations.spans import AnnotationSpans

__all__ = ["AnnotationSpans", "FeedRow", "feed_rows"]

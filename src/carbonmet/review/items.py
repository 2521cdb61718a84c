"""Review items as data (public submodule): JJF 1356-2012 Appendix C's 52 items and the 9.7.2 conclusion rule
(:func:`load_items`), judged from a review's findings and on-site verdicts (:func:`assess_items` →
:class:`ItemsAssessment` of :class:`ItemResult` per :class:`ReviewItem`)."""

from ._items import ItemResult, ItemsAssessment, ItemVerdict, ReviewItem, assess_items, load_items

__all__ = ["ItemResult", "ItemVerdict", "ItemsAssessment", "ReviewItem", "assess_items", "load_items"]

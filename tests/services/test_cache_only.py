"""``cache_only``: a read answers from the services' caches or says it would compute (the web's event-loop path)."""

from __future__ import annotations

import pytest

from carbonmet import services
from carbonmet.services import Scope, Workspace
from carbonmet.services.cache import CacheMiss, cache_only, cache_only_active


def test_a_kept_listing_is_answered_and_a_missing_one_raises_until_computed(fresh_region: Workspace) -> None:
    centre = Scope.centre()
    with cache_only(), pytest.raises(CacheMiss):
        services.list_organisations(fresh_region, centre)
    assert not cache_only_active()  # the block ends with the exception
    first = services.list_organisations(fresh_region, centre)  # outside the block: computed and kept
    with cache_only():
        assert cache_only_active()
        assert services.list_organisations(fresh_region, centre) is first
        with pytest.raises(CacheMiss):  # another scope is another key
            services.list_organisations(fresh_region, Scope.enterprise("E01"))
    # an audited write is a new registry version: the kept listing no longer answers
    services.create_user(fresh_region, centre, "cache-only-user", "a-password-of-length", "regulator")
    with cache_only(), pytest.raises(CacheMiss):
        services.list_organisations(fresh_region, centre)
    assert services.list_organisations(fresh_region, centre) == first


def test_the_scope_check_comes_before_the_cache(fresh_region: Workspace) -> None:
    with cache_only(), pytest.raises(services.NotInScope):
        services.account_enterprise(fresh_region, Scope.enterprise("E01"), "E02", 2025)

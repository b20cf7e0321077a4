"""What a pipeline's record keeps of its definition, as plain JSON values.

The server stores these (the DAG drawn without importing code, the promotion policy,
the retrain rules); a remote client sends them, since the server has no code to load.
"""

from __future__ import annotations

from typing import Any

from mlgrove.pipelines.graph import Pipeline, RetrainRule

__all__ = ["promotion_spec", "rule_spec", "shape"]


def shape(p: Pipeline) -> list[dict[str, Any]]:
    """The pipeline's steps as stored on its record (drawn without importing its code)."""
    return [
        {
            "name": n,
            "upstream": p.upstream[n],
            "datasets": {k: v.label for k, v in p.by_name[n].datasets.items()},
            "params": sorted(
                k
                for k in p.by_name[n].defaults
                if k not in p.by_name and k not in p.by_name[n].datasets
            ),
        }
        for n in p.order
    ]


def promotion_spec(p: Pipeline) -> dict[str, Any] | None:
    if p.promotion is None:
        return None
    return {
        "metric": p.promotion.metric,
        "margin": p.promotion.margin,
        "higher_is_better": p.promotion.higher_is_better,
        "human_queue": p.promotion.human_queue,
        "human_min_items": p.promotion.human_min_items,
        "human_max_drop": p.promotion.human_max_drop,
    }


def rule_spec(rule: RetrainRule) -> dict[str, Any]:
    """A retrain rule's stored spec: only what it sets."""
    return {
        k: v
        for k, v in {
            "dataset": rule.dataset,
            "min_added_rows": rule.min_added_rows,
            "min_changed_pct": rule.min_changed_pct,
            "split_changed": rule.split_changed,
            "min_reviewed_labels": rule.min_reviewed_labels,
            "cron": rule.cron,
        }.items()
        if v is not None
    }

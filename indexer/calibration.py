"""Abstention thresholds per embedding model, shipped with the code and copied into each build's manifest.

Cosine similarities live on a different scale for each model (e5's unrelated texts score ~0.8, USE's ~0.1), so
the relevance bar belongs to the model. `python -m eval --calibrate` chooses the values by cross-validation over
the development questions and writes them to `indexer/calibration.json`; a build records its model's entry and
the server refuses to answer with a model that has none (it would either answer everything or nothing).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from indexer.store import IndexMissing

CALIBRATION_PATH = Path(__file__).resolve().parent / "calibration.json"


class Calibration(BaseModel):
    """relevance = best cosine in the best record (the dense models mixed) + coverage_weight × its topic-term
    coverage."""

    # Below this the corpus has nothing on the topic: abstain.
    min_relevance: float = Field(ge=-1, le=3)
    coverage_weight: float = Field(ge=0, le=2)
    # Below this (and above min_relevance) no practice addresses exactly the question: show the closest ones.
    close_relevance: float = Field(ge=-1, le=3)
    # English questions have no Spanish vocabulary to cover: cosine alone.
    min_english_cosine: float = Field(ge=-1, le=1)
    # Topics of the field's catalog (`indexer.topics`) whose best cosine with the corpus is below this are topics the
    # corpus does not cover. A question is about the nearest of them when
    #   (its cosine with the topic − the best practice's cosine)
    #   + topic_terms_weight × (share of its terms in the topic's text − share in the best practice) > max_topic_margin
    # and is refused naming it. The defaults (builds before the catalog) never refuse.
    topic_coverage: float = Field(0.0, ge=0, le=1)
    topic_terms_weight: float = Field(0.0, ge=0, le=1)
    max_topic_margin: float = Field(1.0, ge=-1, le=2)
    # Every cosine above (the best practice's, the topics') mixes the dense models on the primary's scale
    # (`bot.topics.mix`): the primary weighs 1, the second model this. 0: the primary alone (also without a catalog,
    # whose build supplies the scale).
    second_weight: float = Field(0.0, ge=0, le=5)
    note: str = ""


class NotCalibrated(IndexMissing):
    """The index's embedding model has no abstention calibration."""


def load_calibrations(path: Path = CALIBRATION_PATH) -> dict[str, Calibration]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {model: Calibration.model_validate(values) for model, values in data.items()}


def calibration_for(model: str) -> dict[str, object] | None:
    """The shipped calibration of `model` as stored in a manifest, or None."""
    calibration = load_calibrations().get(model)
    return calibration.model_dump() if calibration else None

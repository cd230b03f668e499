"""Checkpoints of a Dask fit, published by the leader, read by the client on failure.

Every ``every`` rounds the leader stores the model in a ``distributed.Variable`` (and writes it to
``directory`` when given, as ``model-<rounds>.json``, atomically), next to the fit's bin edges.
Both go through the scheduler, so they survive the loss of any worker, the leader's included.
The scheduler's copy is private to the fit: pickles of the booster without its trees and of each
round's trees, each round pickled once per fit (a tenth of the cost of its JSON, which only the
files need). The leader hands the scheduler's copies to a thread of its own, in order, so the boosting loop
does not wait for a scheduler round trip (a few ms, most of a small data round); the fit waits for
them only when it ends (``wait_stored``), so no copy lands after ``forget`` or after a restart's.
"""
import copy
import json
import os
import pickle
from concurrent.futures import ThreadPoolExecutor

from distributed import Variable, get_client

from bindings.callbacks import TrainingCallback


class Checkpoint(TrainingCallback):
    """Leader-side callback; ``name`` is unique per fit."""

    def __init__(self, name, every=10, directory=None):
        self.name, self.every, self.directory = name, max(1, int(every)), directory
        self._tree_texts = []  # JSON of the trees already encoded: each is encoded once per fit
        self._round_pickles = []  # the same for the scheduler's copy, by round
        self._publisher, self._pending = None, []  # set on the leader: the thread and its unchecked stores

    def model_json(self, booster):
        """``json.dumps(booster.to_dict())`` up to key order, encoding only the trees added since the
        last call: re-encoding the whole model every ``every`` rounds made checkpoints quadratic in
        the number of trees (50 trees of depth 6: 19 ms a time)."""
        doc = booster.to_dict()
        trees = doc.pop("trees")
        self._tree_texts.extend(json.dumps(tree) for tree in trees[len(self._tree_texts):])
        return json.dumps(doc)[:-1] + ', "trees": [' + ", ".join(self._tree_texts) + "]}"

    def model_state(self, booster):
        """{"header": pickled ``booster`` without trees, "round_trees": pickled list of trees per round},
        pickling only the rounds added since the last call; ``booster_from_state`` inverts it."""
        header = copy.copy(booster)
        header.trees, header.tree_class = [], []
        header.truncate(0)  # forgets a cached forest
        k = booster.num_class
        self._round_pickles.extend(pickle.dumps(booster.trees[r * k:(r + 1) * k])
                                   for r in range(len(self._round_pickles), booster.num_boosted_rounds()))
        return {"header": pickle.dumps(header), "round_trees": list(self._round_pickles)}

    def _store(self, suffix, value):
        """Set the fit's ``suffix`` variable to ``value`` in the publishing thread, after every earlier
        store; re-raises the error of an earlier one that failed."""
        if self._publisher is None:
            self._publisher = ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-checkpoint")
        done = [f for f in self._pending if f.done()]
        self._pending = [f for f in self._pending if not f.done()]
        for f in done:
            f.result()
        # the worker's client is found here: the publishing thread runs outside the worker's context
        variable = Variable(f"{self.name}-{suffix}", client=get_client())
        self._pending.append(self._publisher.submit(variable.set, value))

    def wait_stored(self):
        """Wait until every store has reached the scheduler; re-raises the first that failed."""
        if self._publisher is not None:
            self._publisher.shutdown(wait=True)
        pending, self._publisher, self._pending = self._pending, None, []
        for f in pending:
            f.result()

    def publish_edges(self, edges, n_edges):
        """Store the fit's bin edges once, so a resumed fit bins exactly as the first one did."""
        self._store("edges", {"edges": edges.tolist(), "n_edges": n_edges.tolist()})

    def after_iteration(self, booster, iteration, evals_log):
        if (iteration + 1) % self.every == 0:
            self._store("model", {"rounds": iteration + 1, **self.model_state(booster)})
            if self.directory:
                os.makedirs(self.directory, exist_ok=True)
                path = os.path.join(self.directory, f"model-{iteration + 1}.json")
                with open(path + ".tmp", "w") as fh:
                    fh.write(self.model_json(booster))
                os.replace(path + ".tmp", path)
        return False


def booster_from_state(state):
    """The Booster of a ``Checkpoint.model_state``."""
    booster = pickle.loads(state["header"])
    for trees in state["round_trees"]:
        booster.append_round(pickle.loads(trees))
    return booster


def read_checkpoint(client, name):
    """(last checkpoint {"rounds", "model": Booster} or None, {"edges", "n_edges"} or None) of fit ``name``."""
    def get(suffix):
        try:
            return Variable(f"{name}-{suffix}", client=client).get(timeout=1)
        except TimeoutError:
            return None

    saved = get("model")
    return None if saved is None else {"rounds": saved["rounds"], "model": booster_from_state(saved)}, get("edges")


def forget(client, name):
    """Delete the fit's variables from the scheduler."""
    for suffix in ("model", "edges"):
        Variable(f"{name}-{suffix}", client=client).delete()

"""Per-region importance maps of a trained model, to check ASB's SE weights against.

Three maps, each one value per region, averaged over trials:

* ``se_weights``: ASB's input gate (what the paper reads as "selection");
* ``integrated_gradients``: captum's integrated gradients of the predicted
  class's logit from an all-zero input (the minimum after min-max scaling),
  summed in absolute value over the 25 seconds;
* ``occlusion``: how much the predicted class's probability changes (mean
  absolute change) when one region's time course is replaced by its mean over
  the trials (the region's trial-specific information is removed while the
  input stays in its usual range).

The last two measure an effect on the output; the first does not.
"""
from __future__ import annotations

import numpy as np
import torch

from ..training.loop import predict

__all__ = ["se_weights", "integrated_gradients", "occlusion", "region_maps"]


def _tensor(X) -> torch.Tensor:
    return torch.as_tensor(np.asarray(X, np.float32))


def _predicted_class(model, X) -> np.ndarray:
    proba, _ = predict(model, X)
    return proba.argmax(1)


def se_weights(model, X) -> np.ndarray:
    """Mean input SE gate per region over trials (ASB models only).

    Parameters
    ----------
    model : torch.nn.Module
        A trained model, in evaluation mode while the map is computed.
    X : array-like of shape (n_trials, n_regions, n_seconds)
        Trials preprocessed as the model expects.

    Returns
    -------
    weights : ndarray of shape (n_regions,)
    """
    _, gates = predict(model, X)
    if gates is None:
        raise ValueError("this model has no input SE gate (only ASB has one)")
    return gates.mean(0)


def integrated_gradients(model, X, target=None, n_steps: int = 32, batch_size: int = 32) -> np.ndarray:
    """Integrated gradients per region: the mean over trials of their absolute value summed over time.

    The baseline is an all-zero trial (captum's ``IntegratedGradients``).

    Parameters
    ----------
    model : torch.nn.Module
        A trained model, in evaluation mode while the map is computed.
    X : array-like of shape (n_trials, n_regions, n_seconds)
        Trials preprocessed as the model expects.
    target : array-like of int or None, default=None
        The class each trial's map explains; None: the model's predicted class.
    n_steps : int, default=32
        Steps of the path integral.
    batch_size : int, default=32
        Trials per batch.

    Returns
    -------
    attribution : ndarray of shape (n_regions,)
    """
    from captum.attr import IntegratedGradients  # deferred: captum takes seconds to import; only chapter 8 needs it
    model.eval()
    X = _tensor(X)
    target = _predicted_class(model, X) if target is None else np.asarray(target)
    ig = IntegratedGradients(model)
    out = []
    for i in range(0, len(X), batch_size):
        xb = X[i:i + batch_size]
        a = ig.attribute(xb, baselines=torch.zeros_like(xb), target=torch.as_tensor(target[i:i + batch_size]),
                         n_steps=n_steps, internal_batch_size=batch_size * n_steps)
        out.append(a.detach().abs().sum(2))
    return torch.cat(out).mean(0).numpy()


@torch.no_grad()
def occlusion(model, X, target=None, fill=None) -> np.ndarray:
    """Occlusion per region: the mean absolute change in the target class's probability when the region
    is replaced.

    Parameters
    ----------
    model : torch.nn.Module
        A trained model, in evaluation mode while the map is computed.
    X : array-like of shape (n_trials, n_regions, n_seconds)
        Trials preprocessed as the model expects.
    target : array-like of int or None, default=None
        The class each trial's map explains; None: the model's predicted class.
    fill : array-like or None, default=None
        What replaces a region; None: its mean time course over the trials in ``X``.

    Returns
    -------
    drops : ndarray of shape (n_regions,)
    """
    model.eval()
    X = _tensor(X)
    target = torch.as_tensor(_predicted_class(model, X) if target is None else np.asarray(target))
    fill = X.mean(0) if fill is None else _tensor(fill)
    base = torch.softmax(model(X), 1).gather(1, target[:, None])[:, 0]
    drops = np.empty(X.shape[1])
    for r in range(X.shape[1]):
        Xo = X.clone()
        Xo[:, r, :] = fill[r]
        p = torch.softmax(model(Xo), 1).gather(1, target[:, None])[:, 0]
        drops[r] = float((base - p).abs().mean())
    return drops


def region_maps(model, X, methods=("se", "ig", "occlusion"), n_steps: int = 32) -> dict[str, np.ndarray]:
    """The requested region maps of one model.

    Parameters
    ----------
    model : torch.nn.Module
        A trained model, in evaluation mode while the map is computed.
    X : array-like of shape (n_trials, n_regions, n_seconds)
        Trials preprocessed as the model expects.
    methods : tuple of str, default=("se", "ig", "occlusion")
        Any of ``"se"`` (:func:`se_weights`), ``"ig"`` (:func:`integrated_gradients`) and ``"occlusion"``
        (:func:`occlusion`).
    n_steps : int, default=32
        Steps of integrated gradients.

    Returns
    -------
    maps : dict of str to ndarray of shape (n_regions,)
    """
    out = {}
    for m in methods:
        if m == "se":
            out[m] = se_weights(model, X)
        elif m == "ig":
            out[m] = integrated_gradients(model, X, n_steps=n_steps)
        elif m == "occlusion":
            out[m] = occlusion(model, X)
        else:
            raise ValueError(f"unknown attribution {m!r}; expected se, ig or occlusion")
    return out

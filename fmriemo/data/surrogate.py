"""A surrogate data set in exactly the challenge's folder layout.

The real challenge data is licensed to registered participants, so the book
runs by default on data generated here. The generator is calibrated on the
real data's summary statistics (``resources/bn246_signal_stats.csv``):

* each region's mean intensity, times a participant offset: one gain for the
  whole scan (``OFFSET_SHARED`` of the variance, at the typical relative
  between-participant SD; the paper's per-trial min-max removes it) and a
  region-specific part with the region's own between-participant SD;
* a slow drift of the trial mean across a participant's session (AR(1) over
  trials) with the region's between-trial SD, half of it shared by all regions;
* within-trial noise with the region's temporal SD and lag-1 autocorrelation,
  of which a fixed share (``GLOBAL_SHARE``) is a global signal common to all
  regions (real regions correlate about 0.19 within a trial);
* a haemodynamic response to the video block (onset sample 5, offset 20) in
  every region, larger in occipital and temporal cortex, that carries no
  label information;
* labels drawn as in the real training set: 10 trials per class per
  participant in shuffled order, LEVEL drawn from the real CLASS x LEVEL table;
* the real trial-order structure: seven pairs of training participants saw
  the classes in the same order (P01/P10, ..., P07/P16), P08 and P09 have
  orders of their own, and one test participant (P18) shares the order of
  the P02/P11 pair (``ORDER_TWINS``); the orders that are not a twin's are
  one session template perturbed by ``ORDER_SWAPS`` random transpositions,
  so that, as on the real data, a trial's position alone predicts its class
  for a new participant better than chance;
* rare motion-like spikes (one region, one second) that move a trial's
  global minimum or maximum, as head motion does in real recordings.

The emotion signal is planted in a documented set of regions
(``VALENCE_REGIONS`` respond in proportion to LEVEL/4 with a fixed sign,
``AROUSAL_REGIONS`` to ``|LEVEL|/4``), scaled by each region's temporal SD, a
participant gain and a participant-by-region jitter. The emotional drive
builds up over the clip (a ramp from onset to offset) before the
haemodynamic response, so, as on the real data, the seconds after the video
carry more of it than the video itself. The set overlaps the 32
EBR regions in part. ``ground_truth.json`` in the written folder records all
of it. Methods in this package never read the ground truth except to *score*
recovery of the planted regions.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import stats

from ..core.errors import DataError
from ..core.files import check_writable_dir, user_path
from ..core.store import entry_is_intact, write_entry
from . import atlas
from .dataset import N_SECONDS

__all__ = [
    "SURROGATE_VERSION", "GLOBAL_SHARE", "EFFECT_SIZE", "RELEASED_PER_CLASS", "OFFSET_SHARED", "SPIKE_RATE",
    "SPIKE_SIZE", "ORDER_TWINS", "ORDER_SWAPS", "VALENCE_REGIONS", "AROUSAL_REGIONS", "CLASS_LEVEL_COUNTS",
    "planted_regions", "generate", "write_npz", "write_surrogate", "write_surrogate_report",
    "ensure_surrogate", "read_ground_truth",
]

SURROGATE_VERSION = 4
N_TRAIN, N_TEST, N_TRIALS = 16, 4, 30
VIDEO_ONSET, VIDEO_OFFSET = 5, 20
GLOBAL_SHARE = 0.10
EFFECT_SIZE = 0.9   # planted response amplitude at |LEVEL| = 4 (peak of the ramped response), in region temporal SDs
RELEASED_PER_CLASS = 3
OFFSET_SHARED = 0.6   # share of the participant offsets' variance that is one gain for the whole scan
SPIKE_RATE = 0.4      # expected motion-like spikes per trial
SPIKE_SIZE = 0.04     # median spike amplitude, as a fraction of the region's mean intensity
#: participant number -> the participant whose class order it repeats (the real data's structure)
ORDER_TWINS: dict[int, int] = {10: 1, 11: 2, 12: 3, 13: 4, 14: 5, 15: 6, 16: 7, 18: 2}
#: every other participant's class order is one session template with this many random transpositions:
#: on the real data the trial's position alone predicts its class well beyond the twin pairs (LOSO
#: position-only accuracy 0.467; independent orders with twins give ~0.37, 22 swaps give 0.44-0.51 over
#: surrogate seeds 1, 2, 3, 7 and 2024, mean 0.475)
ORDER_SWAPS = 22

#: region row -> sign: +1 responds more to positive ratings, -1 to negative.
VALENCE_REGIONS: dict[int, int] = {
    210: -1, 211: -1, 212: -1, 213: -1,   # medial and lateral amygdala
    46: +1, 47: +1,                       # A11m, medial orbitofrontal
    222: +1, 223: +1,                     # nucleus accumbens
    186: +1, 187: +1,                     # A32sg, subgenual cingulate
    42: -1, 43: -1,                       # A12/47o (also in EBR)
    86: +1, 87: +1,                       # aSTS (also in EBR)
    182: -1, 183: -1,                     # A24cd (also in EBR)
}
#: regions responding to the intensity of the rating, whatever its sign.
AROUSAL_REGIONS: tuple[int, ...] = (164, 165, 166, 167, 194, 195, 104, 105)

#: real CLASS x LEVEL counts of the 480 training trials (rows -1, 0, 1; columns -4..4).
CLASS_LEVEL_COUNTS = np.array([
    [63, 36, 28, 23, 1, 1, 1, 2, 4],
    [1, 0, 6, 3, 109, 23, 10, 1, 6],
    [1, 1, 6, 3, 14, 22, 52, 27, 36],
], dtype=float)


def planted_regions() -> np.ndarray:
    """Every region that carries planted signal.

    Returns
    -------
    indices : ndarray of int
        Sorted row indices.
    """
    return np.array(sorted(set(VALENCE_REGIONS) | set(AROUSAL_REGIONS)))


def _hrf_response(n: int = N_SECONDS, onset: int = VIDEO_ONSET, offset: int = VIDEO_OFFSET,
                 ramp: bool = False) -> np.ndarray:
    """Canonical double-gamma HRF (TR 1 s) convolved with the video block, peak 1. With ``ramp``
    the drive rises linearly over the block (an emotion that builds up during the clip)."""
    t = np.arange(0, 32.0)
    hrf = stats.gamma.pdf(t, 6) - stats.gamma.pdf(t, 16) / 6.0
    box = np.zeros(n)
    box[onset:offset] = np.linspace(1.0 / (offset - onset), 1.0, offset - onset) if ramp else 1.0
    resp = np.convolve(box, hrf)[:n]
    return resp / resp.max()


def _ar1(rng, phi, shape, axis_len):
    """Unit-variance AR(1) series along the last axis; ``phi`` broadcasts over leading axes."""
    phi = np.broadcast_to(np.asarray(phi, float), shape[:-1])[..., None]
    e = rng.standard_normal(shape)
    out = np.empty(shape)
    out[..., 0] = e[..., 0]
    scale = np.sqrt(1 - phi[..., 0] ** 2)
    for t in range(1, axis_len):
        out[..., t] = phi[..., 0] * out[..., t - 1] + scale * e[..., t]
    return out


def _session_order(rng, template: np.ndarray, swaps: int = ORDER_SWAPS) -> np.ndarray:
    """The template class order with ``swaps`` random transpositions (class counts unchanged)."""
    cls = np.array(template, int)
    for _ in range(swaps):
        i, j = rng.choice(len(cls), 2, replace=False)
        cls[i], cls[j] = cls[j], cls[i]
    return cls


def _draw_labels(rng, cls: np.ndarray | None = None) -> np.ndarray:
    """[30, 2] CLASS, LEVEL for one participant: 10 per class in shuffled order (or the given
    class order), each LEVEL drawn from the real table's row of its class."""
    if cls is None:
        cls = np.repeat([-1, 0, 1], N_TRIALS // 3)
        rng.shuffle(cls)
    p = CLASS_LEVEL_COUNTS / CLASS_LEVEL_COUNTS.sum(1, keepdims=True)
    lev = np.array([rng.choice(np.arange(-4, 5), p=p[c + 1]) for c in cls])
    return np.column_stack([cls, lev]).astype(float)


def generate(seed: int = 2024, effect_size: float = EFFECT_SIZE) -> dict:
    """Generate the surrogate's arrays in memory.

    Parameters
    ----------
    seed : int, default=2024
        Seed of the surrogate.
    effect_size : float, default=EFFECT_SIZE
        Strength of the planted valence and arousal signal.

    Returns
    -------
    arrays : dict
        ``{"fmri": {pid: [30, 246, 25]}, "labels": {pid: [30, 2]}, "truth": {...}}``.
    """
    rng = np.random.default_rng(seed)
    st = atlas.signal_stats()
    mean = st["mean"].to_numpy()
    sd_subj = st["between_subject_sd"].to_numpy()
    sd_drift = st["within_subject_trial_mean_sd"].to_numpy()
    sd_time = st["within_trial_temporal_sd"].to_numpy()
    phi = np.clip(st["lag1_autocorr"].to_numpy(), 0.0, 0.95)
    lobes = np.array(atlas.lobes())
    R, T = atlas.N_REGIONS, N_SECONDS
    resp = _hrf_response()
    emo = _hrf_response(ramp=True)
    # Task-evoked response without label information, larger in visual/temporal cortex.
    evoked_scale = 0.6 + 1.4 * (lobes == "Occipital Lobe") + 0.6 * (lobes == "Temporal Lobe")
    val_idx = np.array(sorted(VALENCE_REGIONS))
    val_sign = np.array([VALENCE_REGIONS[i] for i in val_idx], float)
    aro_idx = np.array(AROUSAL_REGIONS)

    fmri, labels, gains = {}, {}, {}
    # class orders come from a stream of their own, so that the fMRI noise of a seed does not depend on them
    order_rng = np.random.default_rng([seed, 1])
    template = np.repeat([-1, 0, 1], N_TRIALS // 3)
    order_rng.shuffle(template)
    for p in range(1, N_TRAIN + N_TEST + 1):
        pid = f"P{p:02d}"
        twin = ORDER_TWINS.get(p)
        if twin is None:
            rng.shuffle(np.zeros(N_TRIALS))  # the draw that the order used to take from the main stream
        lab = _draw_labels(rng, _session_order(order_rng, template) if twin is None
                           else labels[f"P{twin:02d}"][:, 0].astype(int))
        # participant offsets, multiplicative so that low-intensity regions stay positive; a share
        # of them is one gain for the whole scan (which the paper's per-trial min-max removes)
        gain = np.sqrt(OFFSET_SHARED) * np.median(sd_subj / mean) * rng.standard_normal()  # one factor for all
        base = mean * np.exp(gain + np.sqrt(1 - OFFSET_SHARED) * sd_subj / mean * rng.standard_normal(R))
        # slow drift of the trial mean: AR(1) over trials, half shared across regions
        shared = _ar1(rng, 0.7, (1, N_TRIALS), N_TRIALS)[0]
        own = _ar1(rng, 0.7, (R, N_TRIALS), N_TRIALS)
        drift = sd_drift[:, None] * (np.sqrt(0.5) * shared[None, :] + np.sqrt(0.5) * own)  # [R, trials]
        # within-trial noise: global + regional AR(1)
        glob = _ar1(rng, float(np.median(phi)), (N_TRIALS, 1, T), T)
        reg = _ar1(rng, phi[None, :].repeat(N_TRIALS, 0), (N_TRIALS, R, T), T)
        noise = sd_time[None, :, None] * (np.sqrt(GLOBAL_SHARE) * glob + np.sqrt(1 - GLOBAL_SHARE) * reg)
        evoked = (sd_time * evoked_scale * rng.lognormal(0, 0.3, R))[None, :, None] * resp[None, None, :]
        gain = float(rng.lognormal(0.0, 0.35))
        jitter_v = 1 + 0.35 * rng.standard_normal(len(val_idx))
        jitter_a = 1 + 0.35 * rng.standard_normal(len(aro_idx))
        x = base[None, :, None] + drift.T[:, :, None] + noise + evoked
        lev = lab[:, 1]
        amp = effect_size * gain
        x[:, val_idx, :] += (amp * sd_time[val_idx] * val_sign * jitter_v)[None, :, None] \
            * (lev / 4.0)[:, None, None] * emo[None, None, :]
        x[:, aro_idx, :] += (amp * sd_time[aro_idx] * jitter_a)[None, :, None] \
            * (np.abs(lev) / 4.0)[:, None, None] * emo[None, None, :]
        for t in np.flatnonzero(rng.random(N_TRIALS) < SPIKE_RATE):  # motion-like spikes
            r, sec = rng.integers(R), rng.integers(T)
            x[t, r, sec] += rng.choice([-1.0, 1.0]) * SPIKE_SIZE * rng.lognormal(0, 0.5) * mean[r]
        fmri[pid] = x.astype(np.float32)
        labels[pid] = lab
        gains[pid] = round(gain, 4)

    names = atlas.region_names()
    truth = {
        "generator": "fmriemo.data.surrogate", "version": SURROGATE_VERSION, "seed": seed,
        "effect_size_sd_units": effect_size,
        "response": {"onset_sample": VIDEO_ONSET, "offset_sample": VIDEO_OFFSET,
                     "shape": [round(float(v), 6) for v in emo],
                     "drive": "linear ramp over the video block, convolved with a double-gamma HRF"},
        "order_twins": {f"P{a:02d}": f"P{b:02d}" for a, b in ORDER_TWINS.items()},
        "spikes": {"rate_per_trial": SPIKE_RATE, "median_fraction_of_mean": SPIKE_SIZE},
        "valence_regions": [{"index": int(i), "name": names[i], "sign": int(VALENCE_REGIONS[i])} for i in val_idx],
        "arousal_regions": [{"index": int(i), "name": names[i]} for i in aro_idx],
        "planted_regions": planted_regions().tolist(),
        "participant_gain": gains,
        "model": "signal = effect * gain_p * jitter_pr * sd_r * (sign_r * LEVEL/4 for valence, "
                 "|LEVEL|/4 for arousal regions) * response(t), response = HRF * ramp over the video",
    }
    return {"fmri": fmri, "labels": labels, "truth": truth}


def _npz_bytes(arr: np.ndarray) -> bytes:
    """An .npz archive with one array under key 'data', with fixed timestamps (same input, same bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        npy = io.BytesIO()
        np.lib.format.write_array(npy, np.ascontiguousarray(arr), allow_pickle=False)
        info = zipfile.ZipInfo("data.npy", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        zf.writestr(info, npy.getvalue())
    return buf.getvalue()


def write_npz(path: Path, arr: np.ndarray) -> None:
    """Write an array as a challenge ``.npz`` file (one member, ``data``).

    Parameters
    ----------
    path : pathlib.Path
        The file.
    arr : ndarray
        The array.
    """
    Path(path).write_bytes(_npz_bytes(arr))


def _labels_csv(rows) -> str:
    lines = ["Participant,Trial,CLASS,LEVEL"]
    for pid, trial, c, lvl in rows:
        lines.append(f"{pid},{trial},{'' if c is None else int(c)},{'' if lvl is None else int(lvl)}")
    return "\n".join(lines) + "\n"


class _SurrogateWritten(NamedTuple):
    """What :func:`write_surrogate` did: the folder, and the entries already in it that it left as they were
    (files it does not write: a user's own notes or physiology files)."""

    folder: Path
    untouched: list


def write_surrogate(out_dir, seed: int = 2024, effect_size: float = EFFECT_SIZE, force: bool = False) -> Path:
    """Write a complete challenge-layout folder.

    Contents: ``Train/P01..P16`` (fMRI_data.npz, labels.npz), ``Test/P17..P20`` (fMRI_data.npz),
    ``Supplementary/BN_atlas.txt`` and ``submission.csv``, ``released_labels.csv`` (3 trials per class per
    test participant, the rest empty, as in Phase II), ``test_labels.csv`` (all test labels, for exact
    scoring) and ``ground_truth.json``. Physiology files are not written.

    The files are written under a temporary name beside ``out_dir`` and moved into place only once all
    of them are complete: interrupted, or out of disk space, it leaves nothing behind and nothing of an
    earlier folder changed. Two writers into one folder at once are refused: the second names the first.

    Parameters
    ----------
    out_dir : str or path
        The folder.
    seed : int, default=2024
        Seed of the surrogate.
    effect_size : float, default=EFFECT_SIZE
        Strength of the planted valence and arousal signal.
    force : bool, default=False
        Write into a folder that holds something: each file the surrogate consists of replaces its
        earlier version (one rename each) and everything else is left as it was
        (:func:`write_surrogate_report` says what). Without it such a folder is refused.

    Returns
    -------
    folder : pathlib.Path
    """
    return write_surrogate_report(out_dir, seed, effect_size, force).folder


def write_surrogate_report(out_dir, seed: int = 2024, effect_size: float = EFFECT_SIZE,
                           force: bool = False) -> _SurrogateWritten:
    """:func:`write_surrogate`, saying also what it left untouched.

    Parameters
    ----------
    out_dir : str or path
        The folder.
    seed : int, default=2024
        Seed of the surrogate.
    effect_size : float, default=EFFECT_SIZE
        Strength of the planted valence and arousal signal.
    force : bool, default=False
        See :func:`write_surrogate`.

    Returns
    -------
    written : NamedTuple
        ``folder`` and ``untouched``: the entries already in it that it left as they were (files it does
        not write: a user's own notes or physiology files).
    """
    out = user_path(out_dir, "surrogate folder")
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: is a file; expected a folder to write the surrogate data set into")
    parent = out.parent
    check_writable_dir(parent, "folder of the surrogate", create=True)
    lock_path = parent / f".{out.name}.writing"
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DataError(f"{out}: another fmriemo surrogate is writing into this folder now; wait for it to "
                            "finish") from None
        try:
            if out.exists() and any(out.iterdir()) and not force:
                raise DataError(f"{out}: folder exists and is not empty (use --force to write into it)")
            return _write_locked(out, seed, effect_size)
        finally:
            lock_path.unlink(missing_ok=True)


def _write_locked(out: Path, seed: int, effect_size: float) -> _SurrogateWritten:
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        try:
            _write_files(tmp, seed, effect_size)
        except OSError as exc:
            raise DataError(f"{out}: the surrogate could not be written ({exc.strerror or exc}); nothing was changed"
                            + (": free some space, or write elsewhere" if exc.errno == errno.ENOSPC else "")) from None
        if not out.exists():
            tmp.rename(out)
            return _SurrogateWritten(out, [])
        ours = sorted(f.relative_to(tmp) for f in tmp.rglob("*") if f.is_file())
        for rel in ours:  # a file in the way of one of ours is refused before anything moves
            target = out / rel
            for folder in reversed(rel.parents[:-1]):
                if (out / folder).exists() and not (out / folder).is_dir():
                    raise DataError(f"{out / folder}: is a file where the surrogate writes a folder; move it away")
            if target.is_dir() and not target.is_symlink():
                raise DataError(f"{target}: is a folder where the surrogate writes a file; move it away")
        for rel in ours:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, out / rel)
        mine = {str(r) for r in ours} | {str(p) for r in ours for p in r.parents}
        untouched = sorted(str(p.relative_to(out)) for p in out.rglob("*") if str(p.relative_to(out)) not in mine
                           and (p.parent == out or str(p.parent.relative_to(out)) in mine))  # the top of each
        return _SurrogateWritten(out, untouched)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_files(out: Path, seed: int, effect_size: float = EFFECT_SIZE) -> Path:
    """The files of :func:`write_surrogate`, written straight into the existing folder ``out``."""
    g = generate(seed, effect_size)
    rng = np.random.default_rng([seed, 1])
    released, full, template = [], [], []
    for pid, x in g["fmri"].items():
        is_train = int(pid[1:]) <= N_TRAIN
        pdir = out / ("Train" if is_train else "Test") / pid
        pdir.mkdir(parents=True, exist_ok=True)
        write_npz(pdir / "fMRI_data.npz", x)
        lab = g["labels"][pid]
        if is_train:
            write_npz(pdir / "labels.npz", lab)
            continue
        keep = set()
        for c in (-1, 0, 1):
            keep |= set(rng.choice(np.flatnonzero(lab[:, 0] == c), RELEASED_PER_CLASS, replace=False).tolist())
        for t in range(N_TRIALS):
            c, lvl = lab[t]
            full.append((pid, t + 1, c, lvl))
            released.append((pid, t + 1, c, lvl) if t in keep else (pid, t + 1, None, None))
            template.append((pid, t + 1, None, None))
    sup = out / "Supplementary"
    sup.mkdir(parents=True, exist_ok=True)
    (sup / "BN_atlas.txt").write_text(
        "Index\tROI Name\n" + "".join(f"{i}\t{n}\n" for i, n in enumerate(atlas.region_names())))
    (sup / "submission.csv").write_text(_labels_csv(template))
    (out / "released_labels.csv").write_text(_labels_csv(released))
    (out / "test_labels.csv").write_text(_labels_csv(full))
    (out / "ground_truth.json").write_text(json.dumps(g["truth"], indent=1) + "\n")
    return out


def _surrogate_code_version() -> str:
    """Hash of the generator's code and the calibration tables it reads (an edit makes a new folder)."""
    here = Path(__file__).parent
    h = hashlib.sha256(Path(__file__).read_bytes())
    for path in (here / "atlas.py", here.parent / "resources" / "bn246_signal_stats.csv",
                 here.parent / "resources" / "bn246_regions.csv"):
        h.update(path.read_bytes())
    return h.hexdigest()[:8]


def ensure_surrogate(cache_dir, seed: int = 2024) -> Path:
    """The surrogate folder for a seed, generated on first use.

    It is an entry of the package's store (:mod:`fmriemo.core.store`): named by the generator's version
    and code, written atomically with a manifest of checksums, and generated again, with one line saying
    so, when a file of it is missing or damaged.

    Parameters
    ----------
    cache_dir : str, path or None
        The store's folder (:func:`fmriemo.core.store.cache_root`).
    seed : int, default=2024
        Seed of the surrogate.

    Returns
    -------
    folder : pathlib.Path
    """
    folder = user_path(cache_dir, "cache folder") / f"surrogate-v{SURROGATE_VERSION}-{_surrogate_code_version()}-seed{seed}"
    if not entry_is_intact(folder, "surrogate data set", "generating it again"):
        write_entry(folder, lambda tmp: _write_files(tmp, seed))
    return folder


def read_ground_truth(folder) -> dict | None:
    """The surrogate's ground truth.

    Parameters
    ----------
    folder : str or path
        A challenge-layout folder.

    Returns
    -------
    truth : dict or None
        None for a folder that is not a surrogate (real data).
    """
    p = Path(folder) / "ground_truth.json"
    return json.loads(p.read_text()) if p.is_file() else None

"""What every layer needs and that knows nothing about fMRI: the errors a user can cause, writing
files safely, the content-addressed store behind every cache of the package, and each side-by-side
process's share of the CPU cores."""

__all__ = ["errors", "files", "store", "threads"]


"""What every layer needs and that knows nothing about fMRI: the errors a user can cause, writing
files safely, and the content-addressed store behind every cache of the package."""

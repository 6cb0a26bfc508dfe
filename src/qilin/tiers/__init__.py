"""梯度培育库 (the gradient cultivation database): tier standards as versioned data, an explained evaluation
as of any date, a vectorised twin of it for whole registries, snapshots, their diff, the yearly selection."""

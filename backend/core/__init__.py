"""Cross-cutting pieces: the job status machine, health, task status, probes, maintenance."""

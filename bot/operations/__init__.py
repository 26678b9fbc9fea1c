"""What the operators read: the figures behind /stats, /metrics and the dashboard (figures.py), and
the per-minute activity the charts draw (activity.py)."""

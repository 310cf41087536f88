"""Batteries: generated families of scenes (or scenario files) on several models, one folder, one profile.

`file` reads a battery file (`simstage battery BATTERY.yaml`); `scenes` generates or reads
its scenes and writes them into the folder; `plan` makes every run's scenario (a
`SweepPlan`, so the sweep's folder, lock, rows and tables serve it); `player` plays a
model's runs on one loaded stage, restarted between runs. The profile of a finished
battery is `simstage.analysis.profile`, its page `simstage.report.profile_page`.
"""

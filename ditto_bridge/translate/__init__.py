"""DAW units stop here: tempo, signature, beats, bars, warp markers, breakpoints, notes and locators in; seconds out.

`time` is the one place beats and bars become seconds; the other modules call it. `live_job` turns a whole job in
Live units (`docs/PROTOCOL.md`) into the engine's seconds-based job.
"""

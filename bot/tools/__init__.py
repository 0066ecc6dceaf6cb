"""Tools for integrators: a fake PBX to point the bot at (``voicebot fake-pbx``) and a
CTI simulator to drive a running bot (``voicebot simulate``). See docs/tools.md."""

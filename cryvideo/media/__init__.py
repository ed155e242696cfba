"""Media layer: ffmpeg discovery, probing, audio decoding and frame streaming."""

from .audio import iter_audio_blocks, load_audio, require_audio
from .ffmpeg import check_input_file, ffmpeg_exe
from .frames import DEFAULT_FPS, DEFAULT_MAX_SIDE, Frame, iter_frames
from .probe import MediaInfo, probe

__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_MAX_SIDE",
    "Frame",
    "MediaInfo",
    "check_input_file",
    "ffmpeg_exe",
    "iter_audio_blocks",
    "iter_frames",
    "load_audio",
    "probe",
    "require_audio",
]

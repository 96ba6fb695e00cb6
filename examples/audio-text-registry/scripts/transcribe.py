"""A stand-in for a speech-to-text model: writes what a transcript file of
this project holds (the recording's name, length and checksum, so a changed
recording gives a changed transcript), without the words.

    python3 scripts/transcribe.py IN.wav OUT.txt
"""

import hashlib
import sys
import wave
from pathlib import Path


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    with wave.open(str(src), "rb") as audio:
        seconds = audio.getnframes() / audio.getframerate()
        channels, rate = audio.getnchannels(), audio.getframerate()
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(
        f"source: {src.name}\n"
        f"duration: {seconds:.2f} s ({channels} channel, {rate} Hz)\n"
        f"sha256: {digest}\n"
        "text: [the words a speech model would write]\n"
    )
    print(f"transcribed {src.name}: {seconds:.2f} s")


if __name__ == "__main__":
    main()

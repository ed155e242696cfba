"""What goes into the package; the metadata and dependencies live in ``setup.cfg``.

The repository keeps the bundled models in ``saved_models/`` at its top (a project
convention). An installed cryvideo holds them as package data in ``cryvideo/saved_models/``:
the folder is mapped there below, and only its model files and cards ship (not training curves,
nor the float twin of the YAMNet detector that no command loads).
``cryvideo.models.store.bundled_models_dir`` finds either (its ``UNSHIPPED_FILES`` names what
stays out; ``tests/test_install.py`` checks the wheel against it).
"""

from setuptools import find_packages, setup

MODELS = "cryvideo.saved_models"   # package data only: no Python module, no __init__.py

setup(
    packages=find_packages(include=["cryvideo", "cryvideo.*"]) + [MODELS],
    package_dir={MODELS: "saved_models"},
    package_data={"cryvideo": ["py.typed"], MODELS: ["*.keras", "*.tflite", "*.json"]},
    exclude_package_data={MODELS: ["cry_detector_yamnet.tflite", "cry_detector_yamnet.json"]},
)

"""Fake of config/quadmask_cogvideox.py (66e9c0e): the defaults the fake predict_v2v.py starts from."""

DEFAULTS = {
    "experiment.run_seqs": "",
    "experiment.save_path": "void_outputs_quadmask",
    "data.data_rootdir": "./data",
    "data.sample_size": "384x672",
    "data.max_video_length": "197",
    "data.fps": "12",
    "video_model.model_name": "./CogVideoX-Fun-V1.5-5b-InP",
    "video_model.transformer_path": "",
    "video_model.temporal_window_size": "85",
    "system.seed": "42",
    "system.gpu_memory_mode": "model_cpu_offload_and_qfloat8",
}

"""Which step-distillation LoRA file serves which model: chosen by what the file says it is for."""

import pytest

from wan.plan.speed import distill_files

LORAS = [
    "loras/Wan21_I2V_14B_lightx2v_cfg_step_distill_lora_rank64.safetensors",
    "loras/Wan21_T2V_14B_lightx2v_cfg_step_distill_lora_rank32.safetensors",
    "loras/Wan2.2-Lightning_T2V-A14B-4steps-lora_HIGH_fp16.safetensors",
    "loras/Wan2.2-Lightning_T2V-A14B-4steps-lora_LOW_fp16.safetensors",
    "loras/wan2.2_i2v_A14b_high_noise_lora_rank64_lightning_4step.safetensors",
    "loras/wan2.2_i2v_A14b_low_noise_lora_rank64_lightning_4step.safetensors",
]


def test_the_task_in_the_name_decides_not_the_sort_order():
    # The I2V file sorts first; a T2V render must still get the T2V one.
    assert distill_files(LORAS, "lightx2v", "t2v", False) == {None: LORAS[1]}
    assert distill_files(LORAS, "lightx2v", "i2v", False) == {None: LORAS[0]}


def test_two_experts_get_their_own_halves():
    assert distill_files(LORAS, "lightning", "t2v", True) == {"high": LORAS[2], "low": LORAS[3]}
    assert distill_files(LORAS, "lightning", "i2v", True) == {"high": LORAS[4], "low": LORAS[5]}
    with pytest.raises(ValueError, match="low-noise expert is missing"):
        distill_files(LORAS[:3], "lightning", "t2v", True)
    with pytest.raises(ValueError, match="two experts; this model has one"):
        distill_files(LORAS, "lightning", "t2v", False)


def test_a_name_without_a_task_serves_any_and_a_wrong_task_is_named():
    generic = ["loras/causvid_14b.safetensors"]
    assert distill_files(generic, "causvid", "i2v", False) == {None: generic[0]}
    with pytest.raises(ValueError, match=r"no lightx2v LoRA for ti2v \(found: Wan21_I2V"):
        distill_files(LORAS[:1], "lightx2v", "ti2v", False)


def test_flf2v_takes_its_own_file_then_an_i2v_one():
    flf2v = "loras/Wan21_FLF2V_14B_lightx2v.safetensors"
    assert distill_files([*LORAS, flf2v], "lightx2v", "flf2v", False) == {None: flf2v}
    assert distill_files(LORAS, "lightx2v", "flf2v", False) == {None: LORAS[0]}  # the I2V one

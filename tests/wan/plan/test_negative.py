"""The negative prompt WAN is sent follows the official repositories' defaults per family."""

from wan.plan.negative import CAMERA_SHAKE, SHOT_CHANGE, WAN_NEGATIVE, default_negative, negative_prompt

I2V = "WanImageToVideoPipeline"


def test_each_family_gets_the_official_default():
    assert default_negative("wan2.1-t2v-1.3b", "WanPipeline") == WAN_NEGATIVE
    assert default_negative("wan2.1-i2v-14b-480p", I2V) == CAMERA_SHAKE + WAN_NEGATIVE
    assert default_negative("wan2.1-flf2v-14b-720p", I2V) == SHOT_CHANGE + CAMERA_SHAKE + WAN_NEGATIVE
    assert default_negative("wan2.2-i2v-a14b", I2V) == WAN_NEGATIVE  # Wan2.2 adds no prefix
    assert default_negative("wan2.1-vace-1.3b", "WanVACEPipeline") == WAN_NEGATIVE
    # The default rejects stills: 静止 (still) and 静态 (static) are in it.
    assert "静止" in WAN_NEGATIVE and "静态" in WAN_NEGATIVE


def test_the_users_negative_comes_first_and_an_empty_one_is_the_default():
    assert negative_prompt("", "wan2.1-t2v-14b", "WanPipeline") == WAN_NEGATIVE
    assert negative_prompt(" ugly, ", "wan2.1-t2v-14b", "WanPipeline") == "ugly，" + WAN_NEGATIVE

"""Real organisations on the Hugging Face Hub that attackers imitate ("model confusion").

Data only. A namespace that is not one of these (nor in the project's `trusted-namespaces`)
but looks like one of them is reported. Keep entries as the Hub spells them; comparison is
case-insensitive. Add an organisation when it is widely loaded by name.
"""

KNOWN_ORGANISATIONS: frozenset[str] = frozenset(
    """
    meta-llama facebook FacebookAI mistralai mistral-community google google-bert google-t5
    google-research-datasets microsoft openai openai-community Qwen deepseek-ai stabilityai runwayml
    stable-diffusion-v1-5 CompVis sentence-transformers cross-encoder BAAI EleutherAI bigscience
    bigcode tiiuae HuggingFaceH4 HuggingFaceTB HuggingFaceM4 HuggingFaceFW huggingface nvidia
    intfloat thenlper Salesforce allenai cardiffnlp distilbert laion openlm-research lmsys
    NousResearch teknium mosaicml databricks 01-ai THUDM zai-org internlm baichuan-inc xai-org
    CohereForAI CohereLabs ibm-granite ibm amazon apple Snowflake jinaai nomic-ai mixedbread-ai
    Alibaba-NLP timm openbmb llava-hf liuhaotian h94 lllyasviel madebyollin black-forest-labs
    kandinsky-community DeepFloyd playgroundai ByteDance unsloth TheBloke bartowski
    lmstudio-community mlx-community ggml-org deepmind Helsinki-NLP dslim j-hartmann ProsusAI
    nlptown stanfordnlp rajpurkar nyu-mll tatsu-lab yahma Open-Orca cais mozilla-foundation
    openslr ylecun uoft-cs zalando-datasets wikimedia pyannote speechbrain hkunlp vinai dbmdz
    almanach uer hfl shibing624 ai-forever cointegrated emilyalsentzer dmis-lab microsoft-research
    google-deepmind facebookresearch pytorch keras tensorflow Intel intel AMD amd moonshotai
    MiniMaxAI tencent baidu PaddlePaddle OpenGVLab Lin-Chen lmms-lab upstage LGAI-EXAONE
    allenai-org IDEA-CCNL FlagAlpha Writer ServiceNow-AI snowflake Nexusflow princeton-nlp
    """.split()
)
